"""Running one party's ASGI app on 127.0.0.1 and saying so with one JSON line when ready."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import sys
import threading
import time
from typing import Any

import uvicorn

from kofu.core.network import NetworkIdentity

__all__ = ["free_port", "serve_forever"]


def free_port() -> int:
    """A port on 127.0.0.1 nobody is listening on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_forever(
    app: Any, port: int, ready: dict[str, Any], identity: NetworkIdentity | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM; print ``ready`` as one JSON line once listening.

    With ``identity`` the server speaks TLS and requires a client certificate
    from the network CA (mutual TLS).
    """
    tls: dict[str, Any] = {}
    if identity is not None:
        tls = {
            "ssl_certfile": str(identity.cert),
            "ssl_keyfile": str(identity.key),
            "ssl_ca_certs": str(identity.ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,  # idle keep-alive clients must not hold a stop
        **tls,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start on 127.0.0.1:{port}")
        time.sleep(0.02)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    sys.stdout.write(json.dumps(ready, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(10)
