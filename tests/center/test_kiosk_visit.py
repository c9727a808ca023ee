"""The kiosk page's flow over HTTP: nothing asked of the center before the fee is confirmed,
and a visit that ends (print, 中止, a minute left alone) leaves no way to print again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from center_world import count_rows
from kiosk_world import PIN, kiosk_world
from sqlalchemy import select

from kofu.center.adapters import tables as ct
from kofu.city.adapters import tables as cityt


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with kiosk_world(tmp_path_factory.mktemp("kiosk"), clock=[1000.0]) as world:
        yield world


@pytest.fixture
def kiosk(world: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A fresh visit (its own cookie) at the module's machine; rows counted from here."""
    start = set(_all_states(world))
    with httpx.Client(base_url=world["url"], follow_redirects=True) as browser:
        yield world | {"browser": browser, "start": start, "log": _log(world)}


def _signed_in(browser: httpx.Client, card: str = "032051-1", pin: str = PIN) -> httpx.Response:
    browser.get("/")
    browser.post("/city", data={"route": "residence"})
    browser.post("/notice")
    browser.post("/card", data={"card": card})
    return browser.post("/pin", data={"pin": pin})


def _to_fee(browser: httpx.Client) -> httpx.Response:
    assert 'id="type-juminhyo"' in _signed_in(browser).text
    browser.post("/type", data={"certificate": "juminhyo"})
    browser.post("/options", data={"household": "self"})
    fee = browser.post("/copies", data={"copies": "2"})
    assert 'data-yen="400"' in fee.text, fee.text
    return fee


def _all_states(world: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    i = ct.issuances
    with world["world"]["center"].connect() as conn:
        query = select(i.c.request_id, i.c.state, i.c.reason)
        return {r[0]: (r[1], r[2]) for r in conn.execute(query)}


def _states(kiosk: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The issuances this test's visit made."""
    return [s for k, s in _all_states(kiosk).items() if k not in kiosk["start"]]


def _log(world: dict[str, Any]) -> int:
    return count_rows(world["world"]["city"], cityt.issuance_log)


def test_the_fee_screen_has_asked_the_center_nothing(kiosk: dict[str, Any]) -> None:
    _to_fee(kiosk["browser"])
    assert _states(kiosk) == []  # nothing rendered, nothing to charge or void
    assert _log(kiosk) == kiosk["log"]


def test_after_the_print_nothing_prints_again(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    _to_fee(browser)
    assert 'id="done"' in browser.post("/confirm").text
    assert browser.get("/printed.pdf").content.startswith(b"%PDF")
    assert not browser.get("/printed.pdf").content.startswith(b"%PDF")  # printed once, gone
    again = browser.post("/confirm")  # the confirmation replayed without the card and the PIN
    assert 'id="services"' in again.text and 'id="done"' not in again.text
    assert 'id="services"' in browser.get("/confirm").text
    assert 'id="services"' in browser.post("/type", data={"certificate": "juminhyo"}).text
    assert _log(kiosk) == kiosk["log"] + 1
    assert _states(kiosk) == [("printed", None)]


def test_cancel_at_the_fee_leaves_nothing_behind(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    assert 'id="cancel"' in _to_fee(browser).text
    assert 'id="services"' in browser.post("/cancel").text
    assert 'id="services"' in browser.post("/confirm").text
    assert _states(kiosk) == [] and _log(kiosk) == kiosk["log"]


def _signed_in_sessions(world: dict[str, Any]) -> set[str]:
    s = ct.sessions
    with world["world"]["center"].connect() as conn:
        return set(conn.scalars(select(s.c.session).where(s.c.auth_serial.is_not(None))))


def _used_at_the_center(kiosk: dict[str, Any], session: str) -> httpx.Response:
    """The session id sent straight to the center, as the kiosk would (no mutual TLS here)."""
    body = {
        "session": session,
        "request_id": f"replay-{session[:20]}",
        "certificate": "juminhyo",
        "copies": 1,
        "store": "web-0001",
        "chain": "kofu-web",
    }
    return httpx.post(f"{kiosk['center']}/issuances", json=body, timeout=30)


@pytest.fixture
def own_kiosk(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A machine of its own: a sign-in left unspent counts against the card (stolen-card watch)."""
    with (
        kiosk_world(tmp_path, clock=[1000.0]) as world,
        httpx.Client(base_url=world["url"], follow_redirects=True) as browser,
    ):
        yield world | {"browser": browser, "start": set(), "log": _log(world)}


def test_a_session_left_unspent_is_ended_at_the_center(own_kiosk: dict[str, Any]) -> None:
    kiosk, browser = own_kiosk, own_kiosk["browser"]
    for leave in ("cancel", "idle", "back to the card"):
        before = _signed_in_sessions(kiosk)
        _to_fee(browser)
        (session,) = _signed_in_sessions(kiosk) - before
        if leave == "cancel":
            assert 'id="services"' in browser.post("/cancel").text
        elif leave == "idle":
            kiosk["clock"][0] += 61
            assert 'id="services"' in browser.get("/copies").text  # the next touch ends it
        else:
            browser.get("/card")
        used = _used_at_the_center(kiosk, session)
        assert used.status_code == 403, (leave, used.text)
        assert used.json()["reason"] == "session_unknown"
    assert _states(kiosk) == [] and _log(kiosk) == kiosk["log"]  # nothing issued on any


def test_only_the_sessions_own_kiosk_ends_it(own_kiosk: dict[str, Any]) -> None:
    kiosk = own_kiosk
    _to_fee(kiosk["browser"])
    (session,) = _signed_in_sessions(kiosk)
    with httpx.Client(timeout=30) as center:
        unknown = center.post(f"{kiosk['center']}/sessions/no-such-session/end")
        assert unknown.status_code == 404 and unknown.json()["field"] == "session"
        ended = center.post(f"{kiosk['center']}/sessions/{session}/end")
        assert ended.json() == {"v": 1, "session": session, "ended": True}
        again = center.post(f"{kiosk['center']}/sessions/{session}/end")  # idempotent
        assert again.status_code == 200
    refused = kiosk["browser"].post("/confirm")  # the center refuses the ended session
    assert 'id="again"' in refused.text and 'id="done"' not in refused.text
    assert _states(kiosk) == [] and _log(kiosk) == kiosk["log"]


def test_a_visit_left_alone_a_minute_ends(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    _to_fee(browser)
    kiosk["clock"][0] += 61  # the resident walked away from the fee screen
    assert 'id="services"' in browser.post("/confirm").text
    assert 'id="services"' in browser.get("/copies").text
    assert _states(kiosk) == []


def test_a_wrong_pin_stays_on_the_pin_screen_with_the_tries_left(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    wrong = _signed_in(browser, "032051-2", "0000")
    assert 'id="pin-error"' in wrong.text and "2" in wrong.text and 'id="pin"' in wrong.text
    english = browser.get("/pin", params={"lang": "en"})
    assert "2 more wrong tries" in english.text and '<html lang="en">' in english.text
    assert 'id="type-juminhyo"' in browser.post("/pin", data={"pin": PIN}).text
    malformed = _signed_in(browser, "032051-2", "12a")
    assert "4 digits" in malformed.text  # said in English: the visit kept its language


def test_a_refusal_in_the_residents_language(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    browser.get("/", params={"lang": "pt"})
    _signed_in(browser, "032051-3")
    browser.post("/type", data={"certificate": "inkan"})
    browser.post("/copies", data={"copies": "1"})
    refused = browser.post("/confirm")
    assert 'data-reason="issuance_blocked"' in refused.text
    assert "emissão de certidões está suspensa" in refused.text
    assert "発行" not in refused.text.split('id="reason"')[1].split("</p>")[0]
    assert "証明書の発行が停止" in browser.get("/refused", params={"lang": "ja"}).text
    assert _states(kiosk) == [("voided", "issuance_blocked")]


def test_options_fit_the_certificate(kiosk: dict[str, Any]) -> None:
    browser = kiosk["browser"]
    _signed_in(browser)
    tax = browser.post("/type", data={"certificate": "kazei"})
    assert 'id="year-2026"' in tax.text and 'id="domicile"' not in tax.text
    browser.get("/type")
    seal = browser.post("/type", data={"certificate": "inkan"})
    assert 'id="copies-1"' in seal.text and 'id="year-2026"' not in seal.text
    browser.get("/type")
    residence = browser.post("/type", data={"certificate": "juminhyo"})
    assert 'id="domicile"' in residence.text and 'id="head"' in residence.text
    # a year that is not offered, or one forced on a seal certificate, is not taken
    browser.get("/type")
    browser.post("/type", data={"certificate": "kazei"})
    assert 'id="year-2026"' in browser.post("/year", data={"year": "1999"}).text


def test_a_job_with_a_fee_other_than_shown_is_voided_uncharged(
    kiosk: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The city's fee is the authority: the machine's price list out of date voids the job."""
    from kofu.kiosk import web

    monkeypatch.setitem(web.FEES, "juminhyo", 150)
    browser = kiosk["browser"]
    _signed_in(browser)
    browser.post("/type", data={"certificate": "juminhyo"})
    browser.post("/options", data={"household": "self"})
    assert 'data-yen="150"' in browser.post("/copies", data={"copies": "1"}).text
    refused = browser.post("/confirm")
    assert 'data-reason="fee_changed"' in refused.text
    assert _states(kiosk) == [("voided", "fee_changed")]


def test_what_a_person_at_the_machine_might_send_by_hand(kiosk: dict[str, Any]) -> None:
    """Forms filled by hand: nothing outside the screens' choices is taken, nothing echoed raw."""
    browser = kiosk["browser"]
    browser.get("/")
    browser.post("/city", data={"route": "residence"})
    browser.post("/notice")
    for card in ("../../etc/passwd", "a-resident.json", ""):
        assert 'id="card-1"' in browser.post("/card", data={"card": card}).text
    hostile = browser.get("/card", params={"lang": '"><script>alert(1)</script>'})
    assert "<script>alert" not in hostile.text and '<html lang="ja">' in hostile.text
    browser.post("/card", data={"card": "032051-1"})
    assert 'id="pin-error"' in browser.post("/pin", data={"pin": "12345"}).text  # 4 digits
    assert 'id="type-juminhyo"' in browser.post("/pin", data={"pin": PIN}).text
    assert 'id="type-juminhyo"' in browser.post("/type", data={"certificate": "johyo"}).text
    browser.post("/type", data={"certificate": "inkan"})
    for copies in ("0", "11", "-1", "x"):
        answer = browser.post("/copies", data={"copies": copies})
        assert 'id="copies-1"' in answer.text or answer.status_code == 422
    assert 'id="options"' not in browser.get("/options").text  # no 住民票 options for a seal
    assert _states(kiosk) == []


def test_a_center_that_hangs_on_the_end_does_not_hold_the_residents_screen(
    tmp_path: Path,
) -> None:
    """中止 comes back to the start though the center never answers the session's end.

    The kiosk reaches the center through a relay that holds every end
    unanswered; the link's own 30 s would break the browser's 20 s bound (a
    bound, not a timing).  The kiosk has forgotten the session all the same:
    nothing can be printed on it.
    """
    with (
        kiosk_world(tmp_path, clock=[1000.0], hang_on=b"/end HTTP/1.1") as world,
        httpx.Client(base_url=world["url"], follow_redirects=True, timeout=20) as browser,
    ):
        kiosk = world | {"browser": browser, "start": set(), "log": _log(world)}
        _to_fee(browser)
        assert len(_signed_in_sessions(kiosk)) == 1
        assert 'id="services"' in browser.post("/cancel").text
        assert world["relay"].held == 1  # the end was sent, and hangs
        assert 'id="services"' in browser.post("/confirm").text  # no session left to print on
        assert _states(kiosk) == [] and _log(kiosk) == kiosk["log"]
