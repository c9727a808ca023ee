"""The PostgreSQL server's share of a benchmark run: the CPU of the backends that served it.

PostgreSQL keeps no CPU figure per connection, so the backends are found
by the application name the run's services connect with (``PGAPPNAME``,
which libpq reads) in ``pg_stat_activity``, and their CPU time is read from
``/proc`` like the services'.  A backend may end during the run (a pool
closing a connection it no longer keeps), so they are sampled a few times a
second and the last figure seen of each is kept: a backend that lived
shorter than one sample is missed, and one that ended loses at most its
last quarter second.  With the server on another machine (the process ids
are not PostgreSQL's here) there is no figure.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from kofu.core.db import sqlalchemy_url

__all__ = ["BackendCpu"]

_BACKENDS = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")


class _NotHere(Exception):
    """The process id is not a PostgreSQL process of this machine: the server is elsewhere."""


def _process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of one PostgreSQL process here; None if it has just ended."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None  # the backend ended since pg_stat_activity listed it
    except (OSError, IndexError) as exc:
        raise _NotHere(str(pid)) from exc
    if not comm.startswith("postgres"):
        raise _NotHere(str(pid))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """``with BackendCpu(url, name) as cpu: ... cpu.seconds() ...`` while the run goes on."""

    def __init__(self, url: str, application_name: str, every: float = 0.25) -> None:
        self.application_name, self.every = application_name, every
        self._engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
        self._last: dict[int, float] = {}  # every backend seen: its last CPU seconds
        self._unreadable = False  # a backend's CPU could not be read: no figure at all
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="backend-cpu")

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._engine.dispose()

    def _sample_until_stopped(self) -> None:
        with self._engine.connect() as conn:
            while not self._stop.is_set():
                self._sample(conn)
                self._stop.wait(self.every)

    def _sample(self, conn: Connection) -> None:
        """Read each backend of the run once more (on the caller's connection)."""
        pids = [pid for (pid,) in conn.execute(_BACKENDS, {"name": self.application_name})]
        conn.rollback()
        for pid in pids:
            try:
                seconds = _process_cpu(pid)
            except _NotHere:
                self._unreadable = True
                continue
            if seconds is not None:
                with self._lock:
                    self._last[pid] = max(seconds, self._last.get(pid, 0.0))

    def seconds(self) -> float | None:
        """CPU seconds the run's backends have spent so far, each counted once; None if unknown."""
        with self._engine.connect() as conn:
            self._sample(conn)
        with self._lock:
            return None if self._unreadable else sum(self._last.values())

    def backends(self) -> int:
        """How many backends (server connections) have served the run so far."""
        with self._lock:
            return len(self._last)
