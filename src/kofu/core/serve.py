"""Running one party's ASGI app on 127.0.0.1 and saying so with one JSON line when ready."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kofu.core.network import NetworkIdentity
from kofu.core.processes import die_with_parent

__all__ = ["free_port", "serve_forever", "uvicorn_config"]


def free_port() -> int:
    """A port on 127.0.0.1 nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


AppFactory = Callable[[], Any]
Listener = tuple[int, NetworkIdentity | None]  # a port, and the TLS identity it answers with
_Bound = tuple[socket.socket, NetworkIdentity | None]  # the same, bound (pre-forked workers)


class _ClientCertificateProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that also tells the app who is calling.

    uvicorn checks the client's network certificate but does not pass it on;
    this adds it to every request's scope as the ASGI TLS extension says
    (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM), so a party
    can answer only the callers its rules allow (a city's store path only
    the center, juki a city's report only that city).
    """

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        tls = transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        self.client_pem = ssl.DER_cert_to_PEM_cert(der) if der else None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.client_pem is not None:
            self.scope["extensions"] = {"tls": {"client_cert_chain": [self.client_pem]}}


def uvicorn_config(
    app: Any, port: int, identity: NetworkIdentity | None, client_certificates: bool = True
) -> uvicorn.Config:
    """TLS with ``identity``; a client certificate is required unless ``client_certificates``
    is False (the office: the browser is the client and staff sign in with a password)."""
    tls: dict[str, Any] = {}
    if identity is not None:
        tls = {
            "ssl_certfile": str(identity.cert),
            "ssl_keyfile": str(identity.key),
            "ssl_ca_certs": str(identity.ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED if client_certificates else ssl.CERT_NONE,
        }
    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        # the C parser (h11 in pure Python cost more than the handlers), naming the caller
        http=_ClientCertificateProtocol,
        loop="uvloop",
        timeout_graceful_shutdown=5,  # idle keep-alive clients must not hold a stop
        # longer than httpx keeps an idle connection (5 s), so a client never reuses a
        # connection the server is closing at that moment (a request lost without answer)
        timeout_keep_alive=30,
        **tls,
    )


def _say_ready(ready: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(ready, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def serve_forever(
    build: AppFactory,
    port: int,
    ready: dict[str, Any],
    identity: NetworkIdentity | None = None,
    workers: int = 1,
    also: Listener | None = None,
    client_certificates: bool = True,
) -> None:
    """Serve until Ctrl-C or SIGTERM; print ``ready`` as one JSON line once listening.

    With ``identity`` the server speaks TLS and requires a client certificate
    from the network CA (mutual TLS).  ``also`` serves the same app on a
    second port with its own setting (jpki: CRLs and OCSP public in plain
    HTTP, issuance on mutual TLS; the app's routes decide what each caller
    gets).  ``build`` makes the app; with more than one worker each worker
    process calls it after the fork, so no connection, pool or thread is ever
    shared between workers.
    """
    listeners = [(port, identity), *([also] if also else [])]
    if workers > 1:
        _prefork(build, listeners, ready, workers)
        return
    app = build()
    servers = [
        _server(app, p, tls, first=i == 0, client_certificates=client_certificates)
        for i, (p, tls) in enumerate(listeners)
    ]
    threads = [threading.Thread(target=s.run, name="uvicorn", daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while not all(s.started for s in servers):
        if not all(t.is_alive() for t in threads) or time.monotonic() > deadline:
            _stop_servers(servers, threads)
            raise SystemExit(f"the server did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    signal.signal(signal.SIGTERM, lambda *_: _stop_servers(servers, []))
    _say_ready(ready | {"workers": 1})
    try:
        while all(t.is_alive() for t in threads):
            threads[0].join(0.5)
    except KeyboardInterrupt:
        pass
    _stop_servers(servers, threads)


def _server(
    app: Any,
    port: int,
    identity: NetworkIdentity | None,
    first: bool,
    client_certificates: bool = True,
) -> uvicorn.Server:
    """One listener's server; only the first runs the app's lifespan (its background jobs)."""
    config = uvicorn_config(app, port, identity, client_certificates)
    if not first:
        config.lifespan = "off"
    return uvicorn.Server(config)


def _stop_servers(servers: list[uvicorn.Server], threads: list[threading.Thread]) -> None:
    for server in servers:
        server.should_exit = True
    for thread in threads:
        thread.join(10)


def _worker(build: AppFactory, sockets: list[_Bound], started: int) -> int:
    """One worker process: its own app over the shared listening sockets."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    app = build()
    servers = [
        _server(app, sock.getsockname()[1], tls, first=i == 0)
        for i, (sock, tls) in enumerate(sockets)
    ]

    def tell_when_started() -> None:
        while not all(s.started for s in servers) and not servers[0].should_exit:
            time.sleep(0.02)
        os.write(started, b"1")

    threading.Thread(target=tell_when_started, daemon=True).start()
    others = [
        threading.Thread(target=s.run, kwargs={"sockets": [sock]}, daemon=True)
        for s, (sock, _) in zip(servers[1:], sockets[1:], strict=True)
    ]
    for thread in others:
        thread.start()
    servers[0].run(sockets=[sockets[0][0]])  # uvicorn handles SIGTERM/SIGINT here: a graceful stop
    _stop_servers(servers[1:], others)
    return 0


class _Workers:
    """The parent of a pre-forked service: starts workers, replaces any that dies, stops them."""

    def __init__(self, build: AppFactory, sockets: list[_Bound]) -> None:
        self.build, self.sockets = build, sockets
        self.read_fd, self.write_fd = os.pipe()
        self.pids: set[int] = set()
        self.stopping = False
        self.restarts: list[float] = []

    def spawn(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                die_with_parent(parent)  # a parent killed with SIGKILL leaves no worker on the port
                os.close(self.read_fd)
                code = _worker(self.build, self.sockets, self.write_fd)
            finally:
                os._exit(code)
        self.pids.add(pid)

    def wait_started(self, count: int, timeout: float = 60) -> bool:
        deadline, seen = time.monotonic() + timeout, 0
        while seen < count and time.monotonic() < deadline:
            ready, _, _ = select.select([self.read_fd], [], [], 0.2)
            if ready:
                seen += len(os.read(self.read_fd, count - seen))
        return seen >= count

    def reap(self) -> None:
        """Collect dead workers; start a new one for each unless stopping or crashing in a loop."""
        while self.pids:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            self.pids.discard(pid)
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if not self.stopping and len(self.restarts) <= 10:
                self.spawn()

    def stop(self, grace: float = 10) -> None:
        self.stopping = True
        for pid in self.pids:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.pids and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        for pid in self.pids:
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.pids.clear()


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _prefork(
    build: AppFactory, listeners: list[Listener], ready: dict[str, Any], workers: int
) -> None:
    """Bind once, fork ``workers`` processes that accept on the same sockets, supervise them."""
    sockets: list[_Bound] = []
    for port, identity in listeners:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)
        sockets.append((sock, identity))
    port = listeners[0][0]
    pool = _Workers(build, sockets)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for _ in range(workers):
            pool.spawn()
        if not pool.wait_started(workers):
            raise SystemExit(f"the workers did not start on 127.0.0.1:{port}")
        _say_ready(ready | {"workers": workers})
        while not stop.wait(0.2):
            pool.reap()
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
        for sock, _ in sockets:
            sock.close()
