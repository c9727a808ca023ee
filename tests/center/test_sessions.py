"""A session is one card, one kiosk and one request; the card's status is asked at issuance."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from center_world import CITY, NOON, InProcessCity, center_for, count_rows, make_world, sign_in

from kofu.card.reader import JpkiCard
from kofu.center.adapters import tables as ct
from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.services.issuance import CenterService
from kofu.city.adapters import tables as cityt
from kofu.core.certkinds import CertKind
from kofu.core.clock import FixedClock
from kofu.core.errors import Refused
from kofu.jpki.domain.revocation import RevocationCause
from stores import BACKENDS, fresh_store


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The in-process world with the center's store on SQLite and on PostgreSQL."""
    with fresh_store(request.param, tmp_path, "center") as center:
        yield make_world(tmp_path, center)


def _ask(center: CenterService, session: str, request_id: str, kiosk: str = "") -> Any:
    by = {"kiosk": kiosk} if kiosk else {}  # without mutual TLS there is no kiosk name
    return center.request(
        session=session,
        request_id=request_id,
        certificate="juminhyo",
        options={},
        copies=1,
        store="7-1",
        chain="seven",
        **by,
    )


def _answer(world: dict[str, Any], challenge: bytes) -> tuple[bytes, bytes]:
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    return card.read_certificate(CertKind.AUTH), card.sign(CertKind.AUTH, challenge)


def _sign_in_at(center: CenterService, world: dict[str, Any], kiosk: str) -> str:
    session, challenge = center.open_session(kiosk)
    center.authenticate(session, *_answer(world, challenge), kiosk)
    return session


def test_a_session_is_spent_on_one_request(world: dict[str, Any]) -> None:
    """After a print, the same session asks again: refused, no second certificate, no charge."""
    center = center_for(world)
    session = sign_in(center, world)
    job = _ask(center, session, "store-once-0001")
    assert _ask(center, session, "store-once-0001").pdf == job.pdf  # a retry of the same request
    center.printed(job.request_id)
    with pytest.raises(Refused) as again:
        _ask(center, session, "store-once-0002")
    assert again.value.reason == "session_used" and again.value.message_ja
    assert count_rows(world["city"], cityt.issuance_log) == 1
    assert count_rows(world["center"], ct.issuances) == 1


def test_a_session_and_its_print_job_stay_with_their_kiosk(world: dict[str, Any]) -> None:
    center = center_for(world)
    session, challenge = center.open_session("kiosk-a")
    with pytest.raises(Refused) as answered_elsewhere:
        center.authenticate(session, *_answer(world, challenge), "kiosk-b")
    assert answered_elsewhere.value.reason == "session_other_kiosk"
    session = _sign_in_at(center, world, "kiosk-a")
    with pytest.raises(Refused) as used_elsewhere:
        _ask(center, session, "store-kiosk-0001", kiosk="kiosk-b")
    assert used_elsewhere.value.reason == "session_other_kiosk"
    job = _ask(center, session, "store-kiosk-0001", kiosk="kiosk-a")
    with pytest.raises(Refused) as fetched_elsewhere:  # the same card signed in at kiosk-b
        _ask(center, _sign_in_at(center, world, "kiosk-b"), "store-kiosk-0001", kiosk="kiosk-b")
    assert fetched_elsewhere.value.reason == "session_other_kiosk"
    for other in (center.printed, lambda rid, kiosk: center.voided(rid, "jam", kiosk)):
        with pytest.raises(Refused) as foreign:
            other(job.request_id, kiosk="kiosk-b")
        assert foreign.value.reason == "session_other_kiosk"
    assert count_rows(world["center"], ct.issuances, ct.issuances.c.state == "rendered") == 1
    center.printed(job.request_id, kiosk="kiosk-a")
    assert count_rows(world["center"], ct.issuances, ct.issuances.c.state == "printed") == 1


def test_a_card_reported_lost_after_sign_in_is_refused_at_issuance(world: dict[str, Any]) -> None:
    """The loss report reaches the authority between sign-in and the choice: nothing issues."""
    center = center_for(world)
    session = sign_in(center, world)
    world["directory"].service.revoke_card("032051-1", RevocationCause.LOSS)
    with pytest.raises(Refused) as info:
        _ask(center, session, "store-lost-0001")
    assert info.value.reason == "certificate_revoked"
    assert "失効" in (info.value.message_ja or "")
    assert count_rows(world["city"], cityt.issuance_log) == 0
    assert count_rows(world["center"], ct.issuances) == 0


def test_a_card_signing_in_after_a_run_of_failures_is_refused_and_alarmed(
    world: dict[str, Any],
) -> None:
    center = center_for(world)
    for _ in range(5):
        session, challenge = center.open_session()
        certificate, _ = _answer(world, challenge)
        with pytest.raises(Refused) as bad:
            center.authenticate(session, certificate, b"\0" * 256)  # not the card's signature
        assert bad.value.reason == "signature_invalid"
    with pytest.raises(Refused) as held:
        sign_in(center, world)
    assert held.value.reason == "sign_in_suspended" and held.value.message_ja
    assert count_rows(world["center"], ct.alarms, ct.alarms.c.kind == "sign_in_failures") == 1
    status = center.status()
    assert status["stopped_cities"] == [] and CITY not in status["stopped_cities"]


def test_a_card_signing_in_after_a_run_of_abandoned_sessions_is_refused(
    world: dict[str, Any],
) -> None:
    """Signed in five times and never asked for anything: the sixth sign-in raises the alarm."""
    center = center_for(world)
    for _ in range(5):
        sign_in(center, world)
    with pytest.raises(Refused) as held:
        sign_in(center, world)
    assert held.value.reason == "sign_in_suspended"
    assert "abandoned" in held.value.message
    assert count_rows(world["center"], ct.alarms, ct.alarms.c.kind == "sign_in_failures") == 1


def test_a_few_failures_do_not_hold_a_card(world: dict[str, Any]) -> None:
    center = center_for(world)
    for _ in range(4):
        session, challenge = center.open_session()
        with pytest.raises(Refused):
            center.authenticate(session, _answer(world, challenge)[0], b"\0" * 256)
    assert _ask(center, sign_in(center, world), "store-few-00001").fee == 200


def test_one_session_is_spent_once_under_a_race(world: dict[str, Any]) -> None:
    """Eight workers spend one session on eight requests at once: exactly one wins."""
    center = center_for(world)
    session = sign_in(center, world)
    barrier = threading.Barrier(8)

    def spend(n: int) -> bool:
        barrier.wait()
        with center.units() as uow:
            spent = uow.sessions.spend(session, f"store-race-{n:04d}")
            uow.commit()
        return spent

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(spend, range(8))) == [False] * 7 + [True]


def test_ended_sessions_and_old_failures_are_swept(world: dict[str, Any]) -> None:
    center = center_for(world)
    session = sign_in(center, world)
    opened, challenge = center.open_session()
    with pytest.raises(Refused):
        center.authenticate(opened, _answer(world, challenge)[0], b"\0" * 256)
    assert center.desk.forget_old() == 0
    later = CenterService(
        sql_units(world["center"]),
        FixedClock(NOON.now() + timedelta(minutes=16)),
        center_signer(world["home"]),
        world["issuer"],
        world["directory"],
        InProcessCity(world["city"]),
    )
    assert later.desk.forget_old() == 2  # the session and the failed sign-in
    assert count_rows(world["center"], ct.sessions) == 0
    with pytest.raises(Refused) as gone:
        _ask(center, session, "store-swept-001")
    assert gone.value.reason == "session_unknown"


def test_a_session_ends_after_its_life_on_every_store(world: dict[str, Any]) -> None:
    """Ten minutes after sign-in the session is gone: SQLite keeps no zone, PostgreSQL does.

    A store that dropped the JST offset and read the time back as UTC kept
    every session nine hours longer than its life.
    """
    session = sign_in(center_for(world), world)
    later = FixedClock(NOON.now() + timedelta(minutes=11))
    with pytest.raises(Refused) as ended:
        _ask(center_for(world, clock=later), session, "store-late-0001")
    assert ended.value.reason == "session_unknown"
    assert count_rows(world["center"], ct.issuances) == 0
