"""A party's HTTPS link to another, on the standard library's HTTP client.

Every issuance crosses six links (the kiosk's four requests to the center,
the center's to juki and to the city), and the city's answer carries the
PDF.  httpx spent about 1.1 ms of CPU on each such exchange on this machine,
http.client about 0.35 ms (docs/benchmarks.md), so the links on the
issuance path use this: keep-alive connections, one per thread and
origin, JSON in and out.  Other links (tools, background reports) keep httpx.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import select
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

__all__ = ["Link", "LinkError", "Reply"]


class LinkError(Exception):
    """The other party could not be reached, or did not answer in HTTP."""


@dataclass(frozen=True)
class Reply:
    """The other party's answer: status, body and headers (names in lower case)."""

    status_code: int
    content: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not."""
        return jsonlib.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


_Origin = tuple[str, str, int]
_IDLE = 5.0  # seconds a connection may wait unused, as httpx allows


class Link:
    """Keep-alive HTTP(S) connections to other parties, each thread its own.

    A connection is never shared between threads, so concurrent requests
    cannot read each other's answers.  A connection idle for ``_IDLE`` seconds
    is closed before use, well before the servers close theirs (30 s,
    core.serve), so a request never meets a server closing at that moment;
    one the other side has closed anyway (it reads as ready, with nothing to
    say) is replaced before use too.  A request is sent at most once.
    """

    def __init__(self, context: ssl.SSLContext | None = None, timeout: float = 30.0) -> None:
        self.context, self.timeout = context, timeout
        self._local = threading.local()
        self._all: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()
        self._closings = 0  # a thread's pool from before the last close() is stale
        self.opened = 0  # connections made so far, for tests and the curious

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, url: str, *, params: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", url, params=params)

    def post(self, url: str, *, json: Any = None, content: bytes | None = None) -> Reply:
        return self.request("POST", url, json=json, content=content)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Reply:
        """One exchange; ``LinkError`` when the party cannot be reached or answers no HTTP."""
        origin, target = _split(url)
        if params:
            target += ("&" if "?" in target else "?") + urlencode(params)
        sent = dict(headers or {})
        body = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False).encode()
            sent.setdefault("content-type", "application/json")
        conn = self._connection(origin)
        try:
            conn.request(method, target, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop(origin, conn)
            raise LinkError(f"{method} {url}: {exc or type(exc).__name__}") from exc
        if answer.will_close:
            self._drop(origin, conn)
        self._local.used[origin] = time.monotonic()
        found = {name.lower(): value for name, value in answer.getheaders()}
        return Reply(answer.status, data, found)

    def close(self) -> None:
        """Close every connection this link made, in any thread.

        The link stays usable: each thread then starts a new pool, since
        http.client would otherwise reopen a closed connection by itself,
        where no later close() could find it.
        """
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._closings += 1

    def _pool(self) -> dict[_Origin, http.client.HTTPConnection]:
        pool: dict[_Origin, http.client.HTTPConnection] | None = getattr(self._local, "pool", None)
        if pool is None or self._local.closings != self._closings:
            pool = self._local.pool = {}
            self._local.used = {}
            self._local.closings = self._closings
        return pool

    def _connection(self, origin: _Origin) -> http.client.HTTPConnection:
        pool = self._pool()
        conn = pool.get(origin)
        now = time.monotonic()
        idle = now - self._local.used.get(origin, now)
        if conn is not None and (idle > _IDLE or _closed_while_idle(conn)):
            self._drop(origin, conn)
            conn = None
        self._local.used[origin] = now
        if conn is None:
            scheme, host, port = origin
            if scheme == "https":
                conn = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=self.context
                )
            else:
                conn = http.client.HTTPConnection(host, port, timeout=self.timeout)
            pool[origin] = conn
            with self._lock:
                self._all.add(conn)
                self.opened += 1
        return conn

    def _drop(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        conn.close()
        if self._pool().get(origin) is conn:
            del self._pool()[origin]
        with self._lock:
            self._all.discard(conn)


def _split(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LinkError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (parts.scheme, parts.hostname, port), target


def _closed_while_idle(conn: http.client.HTTPConnection) -> bool:
    """An idle keep-alive connection that is readable has been closed by the other side."""
    if conn.sock is None:
        return False  # not connected yet: the next request connects
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
