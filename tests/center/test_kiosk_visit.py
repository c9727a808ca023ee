"""The kiosk page ends a visit with its print, on やめる and when left alone: no second print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from center_world import center_for, count_rows, make_world
from sqlalchemy import select

from kofu.card.storage import save_card
from kofu.center.adapters import tables as ct
from kofu.center.api.app import create_app
from kofu.city.adapters import tables as cityt
from kofu.core.link import Link
from kofu.kiosk.web import create_kiosk_app
from services import in_thread

MASTER = b"m" * 32


@pytest.fixture
def kiosk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The kiosk page before a center, with the world's card in its reader and a hand-set clock."""
    monkeypatch.setenv("KOFU_HOME", str(tmp_path))  # the kiosk's state (its card ledger) here
    world = make_world(tmp_path)
    (tmp_path / "cards").mkdir()
    save_card(world["card"], tmp_path / "cards" / "resident.json", MASTER)
    clock = [1000.0]
    with ExitStack() as stack:
        center = stack.enter_context(in_thread(create_app(center_for(world))))
        link = stack.enter_context(Link())
        app = create_kiosk_app(
            center_url=center,
            cards=tmp_path / "cards",
            master_key=MASTER,
            client=link,
            idle_seconds=120,
            monotonic=lambda: clock[0],
        )
        url = stack.enter_context(in_thread(app))
        browser = stack.enter_context(httpx.Client(base_url=url, follow_redirects=True))
        yield {"world": world, "browser": browser, "clock": clock}


def _to_fee(browser: httpx.Client) -> httpx.Response:
    browser.get("/")
    browser.get("/pin", params={"card": "resident.json"})
    chosen = browser.post("/pin", data={"pin": "1234"})
    assert 'id="next"' in chosen.text, chosen.text
    fee = browser.post("/request", data={"type": "juminhyo", "copies": "1"})
    assert 'id="fee"' in fee.text, fee.text
    return fee


def _states(world: dict[str, Any]) -> list[tuple[str, str | None]]:
    i = ct.issuances
    with world["center"].connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(select(i.c.state, i.c.reason))]


def test_after_the_print_the_choice_screen_prints_nothing(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    _to_fee(browser)
    assert 'id="done"' in browser.post("/print").text
    assert browser.get("/printed.pdf").content.startswith(b"%PDF")
    assert 'id="next"' not in browser.get("/choose").text  # back at the start, not the choice
    again = browser.post("/request", data={"type": "juminhyo", "copies": "1"})
    assert 'id="fee"' not in again.text and 'id="services"' in again.text
    assert 'id="done"' not in browser.post("/print").text
    assert count_rows(kiosk["world"]["city"], cityt.issuance_log) == 1
    assert _states(kiosk["world"]) == [("printed", None)]


def test_cancel_voids_the_job_and_ends_the_visit(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    assert 'id="cancel"' in _to_fee(browser).text
    start = browser.post("/cancel")
    assert 'id="services"' in start.text
    assert 'id="fee"' not in browser.post("/request", data={"type": "juminhyo"}).text
    assert _states(kiosk["world"]) == [("voided", "cancelled by the resident")]


def test_a_visit_left_alone_ends(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    _to_fee(browser)
    kiosk["clock"][0] += 121  # the resident walked away from the fee screen
    assert 'id="done"' not in browser.post("/print").text
    assert 'id="fee"' not in browser.post("/request", data={"type": "juminhyo"}).text
    assert _states(kiosk["world"]) == [("voided", "kiosk idle")]
