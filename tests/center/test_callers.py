"""Over mutual TLS: kiosks keep their own sessions and print jobs; only operators read the books."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from center_world import CITY, center_for, make_world

from kofu.card.reader import JpkiCard
from kofu.center.api.app import create_app
from kofu.contracts.kiosk import IssuanceRequest, PrintJob
from kofu.core.certkinds import CertKind
from kofu.core.errors import Refused
from kofu.core.link import Link
from kofu.core.network import client_context, network_identity
from kofu.kiosk.client import KioskClient
from services import KOFU, in_thread


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    world = make_world(tmp_path)
    app = create_app(center_for(world))
    with in_thread(app, network_identity(tmp_path, "center")) as url:
        yield url, world


def _client(world: dict[str, Any], name: str) -> httpx.Client:
    return httpx.Client(verify=client_context(network_identity(world["home"], name)), timeout=30)


def _reader(world: dict[str, Any]) -> JpkiCard:
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    return card


def _issue_body(session: str, request_id: str) -> dict[str, Any]:
    return {
        "session": session,
        "request_id": request_id,
        "certificate": "juminhyo",
        "copies": 1,
        "store": "7-1",
        "chain": "seven",
    }


def _issued(session: str, request_id: str) -> IssuanceRequest:
    return IssuanceRequest.model_validate(_issue_body(session, request_id))


def test_a_session_and_a_print_job_answer_only_their_kiosk(
    served: tuple[str, dict[str, Any]],
) -> None:
    url, world = served
    with Link(client_context(network_identity(world["home"], "kiosk-a"))) as link:
        kiosk_a = KioskClient(url, link)
        session = kiosk_a.authenticate(_reader(world))
        with _client(world, "kiosk-b") as kiosk_b:
            stolen = kiosk_b.post(f"{url}/issuances", json=_issue_body(session, "store-a-000001"))
            assert stolen.status_code == 403, stolen.text
            assert stolen.json()["reason"] == "session_other_kiosk"
            job = kiosk_a.call("/issuances", _issued(session, "store-a-000001"), PrintJob)
            for path in ("printed", "voided"):
                foreign = kiosk_b.post(f"{url}/issuances/{job.request_id}/{path}", json={})
                assert foreign.status_code == 403, foreign.text
                assert foreign.json()["reason"] == "session_other_kiosk"
        kiosk_a.printed(job.request_id)
        with pytest.raises(Refused) as again:  # the choice screen, 次へ, pay: a second print
            kiosk_a.call("/issuances", _issued(session, "store-a-000002"), PrintJob)
        assert again.value.reason == "session_used" and again.value.message_ja


@pytest.mark.parametrize("name", ["kiosk-a", "auditor", "center", "operatorx"])
def test_the_books_and_alarms_are_the_operators_only(
    served: tuple[str, dict[str, Any]], name: str
) -> None:
    url, world = served
    with _client(world, name) as other:
        for path in ("/settlement?month=2026-11", "/status", "/"):
            refused = other.get(f"{url}{path}")
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["reason"] == "caller_not_allowed"
            assert "only operator certificates" in refused.json()["message"]


def test_operators_read_the_books_and_cannot_sign_in(served: tuple[str, dict[str, Any]]) -> None:
    url, world = served
    for name in ("operator", "operator-night"):
        with _client(world, name) as operator:
            assert operator.get(f"{url}/settlement", params={"month": "2026-11"}).json() == {
                "v": 1,
                "month": "2026-11",
                "rows": [],
            }
            assert operator.get(f"{url}/status").json()["alarms"] == []
            assert "稼働状況" in operator.get(f"{url}/").text
            opened = operator.post(f"{url}/sessions", json={})
            assert opened.status_code == 403 and opened.json()["reason"] == "caller_not_allowed"


def test_kofu_settle_asks_the_center_as_operator(served: tuple[str, dict[str, Any]]) -> None:
    url, world = served
    with Link(client_context(network_identity(world["home"], "kiosk-a"))) as link:
        kiosk = KioskClient(url, link)
        session = kiosk.authenticate(_reader(world))
        job = kiosk.call("/issuances", _issued(session, "settle-0001"), PrintJob)
        kiosk.printed(job.request_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env["KOFU_HOME"] = str(world["home"])
    done = subprocess.run(
        [str(KOFU), "settle", "--month", "2026-11", "--center", url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "month": "2026-11",
        "rows": [{"city": CITY, "chain": "seven", "issuances": 1, "copies": 1, "fees": 200}],
        "total": {"issuances": 1, "fees": 200},
    }
    assert (world["home"] / "network" / "operator.pem").exists()
