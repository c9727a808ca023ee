"""A print confirmation whose answer is lost on the way back is said again, never taken as failed.

Between the kiosk and a real center over mutual TLS stands a TCP relay that
passes the first confirmation to the center and then cuts the connection
before the answer reaches the kiosk: the center has charged the print, the
kiosk has heard nothing.  The kiosk must ask again and hear "printed".
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from center_world import center_for, count_rows, make_world
from test_callers import _reader

from kofu.center.adapters import tables as ct
from kofu.center.api.app import create_app
from kofu.core.link import Link
from kofu.core.network import client_context, network_identity
from kofu.kiosk.client import KioskClient
from services import in_thread


class LossyRelay:
    """Relays TCP to ``upstream``; once ``lost()`` holds, the next answer is dropped, cut off."""

    def __init__(self, upstream: int, lost: Callable[[], bool]) -> None:
        self.upstream, self.lost = upstream, lost
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        """Copy bytes; the first answer after the center has charged the print is lost."""
        try:
            while data := source.recv(65536):
                if not outbound and self.cut == 0 and self.lost():
                    self.cut += 1
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    world = make_world(tmp_path)
    app = create_app(center_for(world))
    with in_thread(app, network_identity(tmp_path, "center")) as url:
        yield int(url.rsplit(":", 1)[1]), world


def test_a_lost_confirmation_answer_is_asked_again(served: tuple[int, dict[str, Any]]) -> None:
    port, world = served
    printed = ct.issuances.c.state == "printed"
    relay = LossyRelay(port, lambda: count_rows(world["center"], ct.issuances, printed) > 0)
    try:
        tls = client_context(network_identity(world["home"], "kiosk-a"))
        with Link(tls, timeout=20) as link:
            kiosk = KioskClient(f"https://127.0.0.1:{relay.port}", link)
            session = kiosk.authenticate(_reader(world))
            job = kiosk.request(session, "store-lost-answer-1", "juminhyo", {}, 1, "7-1", "seven")
            kiosk.printed(job.request_id)  # raised center_unavailable before
        assert relay.cut == 1  # the center's first "printed" never reached the kiosk
        assert count_rows(world["center"], ct.issuances, printed) == 1
    finally:
        relay.close()
