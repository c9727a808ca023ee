"""Starting a kofu service as a real process for a test, and always stopping it by its PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord
from kofu.city.domain.model import Resident
from kofu.city.services.seeding import seed_city
from kofu.core.db import make_engine, migrate

KOFU = Path(sys.executable).with_name("kofu")


@contextmanager
def running(
    args: list[str], home: Path, now: str, ctrl_c: bool = False
) -> Iterator[dict[str, Any]]:
    """``kofu ARGS`` with KOFU_HOME and KOFU_NOW; yields its ready line; stops it afterwards.

    With ``ctrl_c`` it runs in a process group of its own and is stopped as a
    terminal's Ctrl-C would: SIGINT to every process of the group; otherwise SIGTERM.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": now}
    proc = subprocess.Popen(
        [str(KOFU), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=ctrl_c,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"kofu {' '.join(args)} exited before it was ready"
        yield json.loads(line)
    finally:
        if ctrl_c and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.terminate()
        try:  # a bound, not a timing: eleven services stop in seconds, slower on a busy machine
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def seeded_city_home(home: Path, code: str, today: date, auth_serial: str) -> Resident:
    """A small seeded city under ``home`` whose sample holder has a card with ``auth_serial``."""
    engine = make_engine(f"sqlite:///{home / f'city_{code}.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code=code, residents=200, seed=3, today=today)
    with CityUnitOfWork(engine, today=today) as uow:
        holder = uow.registers.sample_holder()
        assert holder is not None
        uow.cards.save_card(
            CardRecord(
                card_id=f"{code}-20260101-0001",
                resident_code=holder.resident_code,
                application_id="A1",
                issued_on=date(2026, 1, 1),
                expires_on=date(2036, 1, 1),
                auth_serial=auth_serial,
                certificates_expire_on=date(2031, 1, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()
    engine.dispose()
    return holder


@contextmanager
def in_thread(app: Any, identity: Any = None, client_certificates: bool = True) -> Iterator[str]:
    """``app`` served on a free loopback port in a thread (mutual TLS with ``identity``).

    Yields its base URL and stops it afterwards: for tests that need a real
    socket between a client and an app of this process.
    """
    import threading
    import time

    import uvicorn

    from kofu.core.serve import free_port, uvicorn_config

    port = free_port()
    server = uvicorn.Server(uvicorn_config(app, port, identity, client_certificates))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    try:
        yield f"{'https' if identity is not None else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Silent:
    """A real socket on a free loopback port that accepts every connection and never answers.

    Stands in for a party that hangs (a process stopped, a link that drops
    answers): the client's own bound is all that ends its wait.  ``accepted``
    counts the connections made so far.
    """

    def __init__(self) -> None:
        import socket
        import threading

        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.server.getsockname()[1]}"
        self.held: list[Any] = []
        self._thread = threading.Thread(target=self._hold, daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> int:
        return len(self.held)

    def _hold(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:  # closed: the test is over
                return
            self.held.append(conn)

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *_: object) -> None:
        import contextlib
        import socket

        with contextlib.suppress(OSError):  # accept() does not wake on close() alone
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self._thread.join(10)
        for conn in self.held:
            conn.close()


class HangingRelay:
    """A real TCP relay on a free loopback port to ``target`` that hangs on one kind of request.

    Bytes pass both ways untouched until a client sends a chunk holding
    ``hang_on`` (e.g. ``b"/end HTTP/1.1"``): that chunk is never passed on
    and the connection is held open unanswered, as a party that hangs on
    that one call.  ``held`` counts the requests held so far.
    """

    def __init__(self, target: str, hang_on: bytes) -> None:
        import socket
        import threading
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.hang_on = hang_on
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"{parts.scheme}://127.0.0.1:{self.server.getsockname()[1]}"
        self.held = 0
        self._sockets: list[Any] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:  # closed: the test is over
                return
            upstream = socket.create_connection(self.upstream)
            self._sockets += [client, upstream]
            threading.Thread(target=self._pass, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pass, args=(upstream, client, False), daemon=True).start()

    def _pass(self, source: Any, sink: Any, asking: bool) -> None:
        try:
            while data := source.recv(65536):
                if asking and self.hang_on in data:
                    self.held += 1
                    return  # never passed on, never answered: the client waits
                sink.sendall(data)
        except OSError:
            return

    def __enter__(self) -> HangingRelay:
        return self

    def __exit__(self, *_: object) -> None:
        import contextlib
        import socket

        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
