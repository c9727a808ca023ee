"""Every issuance state leads somewhere: lost answers, dead workers and corrupted documents.

The faults are injected at the link to the city: an answer dropped after
the city issued, a worker that dies while it waits (nothing after that
point runs), a document whose bytes do not match its declared digest.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from center_world import (
    CITY,
    NOON,
    InProcessCity,
    center_for,
    count_rows,
    make_world,
    sign_in,
)
from sqlalchemy import select

from kofu.center.adapters import tables as ct
from kofu.center.adapters.signing import published_certificates, published_folder
from kofu.center.services.issuance import CenterService
from kofu.city.adapters import tables as cityt
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.store import answer_store_request
from kofu.contracts.store import IssueOptions, StoreAnswer, StoreOutcome, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, Refused
from kofu.documents.verify import verify_file
from stores import BACKENDS, fresh_store

MONTH = (datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The in-process world with the center's store on SQLite and on PostgreSQL."""
    with fresh_store(request.param, tmp_path, "center") as center:
        yield make_world(tmp_path, center)


class WorkerKilled(BaseException):
    """The center worker's process ends here (kill -9): no handler of ours runs after it."""


class DroppedAnswerCity(InProcessCity):
    """The city issues, and its answer is lost on the way back, once."""

    dropped = 0

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        answer = super().issue(city, body)
        if not self.dropped:
            type(self).dropped += 1
            raise Refused("city_unavailable", "city could not answer just now")
        return answer


class DiesAfterTheCityCity(InProcessCity):
    """The city issues; the worker dies before the answer arrives."""

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        super().issue(city, body)
        raise WorkerKilled


class DiesBeforeTheCityCity(InProcessCity):
    """The worker dies before the request reaches the city."""

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        raise WorkerKilled


class CorruptingCity(InProcessCity):
    """A faulty connector that changes the document's bytes but not its declared digest."""

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        answer = super().issue(city, body)
        pdf = base64.b64decode(answer.pdf_base64).replace(b"/Type", b"/Typo", 1)
        return answer.model_copy(update={"pdf_base64": base64.b64encode(pdf).decode()})


def _args(session: str, request_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "session": session,
        "request_id": request_id,
        "certificate": "juminhyo",
        "options": IssueOptions(),
        "copies": 1,
        "store": "7-0001",
        "chain": "seven",
    } | changes


def _later(world: dict[str, Any], minutes: float) -> CenterService:
    return center_for(world, clock=FixedClock(NOON.now() + timedelta(minutes=minutes)))


def _issuance(world: dict[str, Any], request_id: str) -> Any:
    with world["center"].connect() as conn:
        i = ct.issuances
        return conn.execute(select(i).where(i.c.request_id == request_id)).one()


def _city_pdf(world: dict[str, Any], request_id: str) -> bytes:
    outcome = InProcessCity(world["city"]).outcome(CITY, request_id)
    assert outcome.state == "issued" and outcome.answer is not None
    return base64.b64decode(outcome.answer.pdf_base64)


def test_a_retry_after_a_dropped_answer_gets_the_same_document(world: dict[str, Any]) -> None:
    DroppedAnswerCity.dropped = 0
    center = center_for(world, DroppedAnswerCity)
    session = sign_in(center, world)
    with pytest.raises(Refused) as lost:
        center.request(**_args(session, "req-dropped-1"))
    assert lost.value.reason == "city_unavailable"
    assert _issuance(world, "req-dropped-1").state == "requested"  # not voided: it may exist
    job = center.request(**_args(session, "req-dropped-1"))  # the kiosk retries at once
    assert job.state == "rendered"
    assert job.pdf.startswith(_city_pdf(world, "req-dropped-1"))  # the document the city kept
    assert count_rows(world["city"], cityt.issuance_log) == 1  # one issue number
    center.printed("req-dropped-1")
    assert center.settlement(*MONTH) == [
        {"city": CITY, "chain": "seven", "issuances": 1, "copies": 1, "fees": 200}
    ]


def test_a_retry_under_the_same_id_with_another_request_is_refused(
    world: dict[str, Any],
) -> None:
    DroppedAnswerCity.dropped = 0
    center = center_for(world, DroppedAnswerCity)
    session = sign_in(center, world)
    with pytest.raises(Refused):
        center.request(**_args(session, "req-reused-01"))
    with pytest.raises(Conflict, match="another request"):
        center.request(**_args(session, "req-reused-01", copies=2))
    with pytest.raises(Conflict, match="different request"):  # the city's refusal
        center.request(**_args(session, "req-reused-01", options=IssueOptions(household="all")))
    assert count_rows(world["city"], cityt.issuance_log) == 1


def test_a_corrupted_document_voids_alarms_and_stops_the_city(world: dict[str, Any]) -> None:
    center = center_for(world, CorruptingCity)
    session = sign_in(center, world)
    with pytest.raises(Refused) as info:
        center.request(**_args(session, "req-corrupt-1"))
    assert info.value.reason == "service_stopped"
    row = _issuance(world, "req-corrupt-1")
    assert (row.state, row.reason, row.print_job) == ("voided", "content_mismatch", None)
    assert count_rows(world["center"], ct.alarms, ct.alarms.c.kind == "content_mismatch") == 1
    honest = center_for(world)
    with pytest.raises(Refused) as stopped:
        honest.request(**_args(sign_in(honest, world), "req-after-01"))
    assert stopped.value.reason == "service_stopped"
    assert honest.status()["stopped_cities"] == [CITY]


def test_a_retry_within_the_lease_waits_and_past_it_recovers(world: dict[str, Any]) -> None:
    center = center_for(world, DiesAfterTheCityCity)
    session = sign_in(center, world)
    with pytest.raises(WorkerKilled):
        center.request(**_args(session, "req-killed-01"))
    restarted = center_for(world)
    with pytest.raises(Conflict, match="in progress"):
        restarted.request(**_args(session, "req-killed-01"))
    job = _later(world, 1).request(**_args(session, "req-killed-01"))
    assert job.pdf.startswith(_city_pdf(world, "req-killed-01"))
    assert count_rows(world["city"], cityt.issuance_log) == 1


def test_the_sweep_completes_what_the_city_issued(world: dict[str, Any], tmp_path: Path) -> None:
    center = center_for(world, DiesAfterTheCityCity)
    session = sign_in(center, world)
    with pytest.raises(WorkerKilled):
        center.request(**_args(session, "req-swept-001"))
    assert center_for(world).recover_stuck() == 0  # within the lease: its worker may live
    first, second = _later(world, 1), _later(world, 1)  # two workers sweep at once
    assert first.recover_stuck() + second.recover_stuck() == 1
    row = _issuance(world, "req-swept-001")
    city_pdf = _city_pdf(world, "req-swept-001")
    assert row.state == "rendered" and bytes(row.print_job).startswith(city_pdf)
    assert row.fee == 200 and row.content_digest == hashlib.sha256(city_pdf).hexdigest()
    job = first.request(**_args(session, "req-swept-001"))  # the kiosk comes back for it
    assert job.pdf == bytes(row.print_job)
    printed = tmp_path / "swept.pdf"
    printed.write_bytes(job.pdf)
    verified = verify_file(printed, published_certificates(published_folder(world["home"])))
    assert verified.content_checked and verified.claims.issued_at == NOON.now()  # when asked
    first.printed("req-swept-001")
    assert first.settlement(*MONTH)[0]["fees"] == 200
    assert count_rows(world["city"], cityt.issuance_log) == 1


def test_a_swept_issuance_nobody_prints_times_out_uncharged(world: dict[str, Any]) -> None:
    center = center_for(world, DiesAfterTheCityCity)
    with pytest.raises(WorkerKilled):
        center.request(**_args(sign_in(center, world), "req-swept-002"))
    _later(world, 1).sweep()
    assert _issuance(world, "req-swept-002").state == "rendered"
    _later(world, 7).sweep()  # past the print timeout from the recovery
    row = _issuance(world, "req-swept-002")
    assert (row.state, row.reason, row.fee) == ("voided", "print timeout", 0)
    assert _later(world, 7).settlement(*MONTH) == []


def test_the_sweep_voids_what_the_city_never_saw_and_closes_the_id(
    world: dict[str, Any],
) -> None:
    center = center_for(world, DiesBeforeTheCityCity)
    session = sign_in(center, world)
    with pytest.raises(WorkerKilled):
        center.request(**_args(session, "req-unseen-01"))
    assert _later(world, 1).recover_stuck() == 1
    row = _issuance(world, "req-unseen-01")
    assert (row.state, row.reason) == ("voided", "city_never_issued")
    late = StoreRequest(
        request_id="req-unseen-01", auth_serial=row.auth_serial, certificate="juminhyo"
    )
    with pytest.raises(Refused) as info:  # the request reaches the city after all: too late
        answer_store_request(
            uow=CityUnitOfWork(world["city"]),
            code=CITY,
            rules=StoreRules(),
            clock=NOON,
            request=late,
        )
    assert info.value.reason == "request_abandoned"
    assert count_rows(world["city"], cityt.issuance_log) == 0
    with pytest.raises(Conflict, match="voided"):
        _later(world, 2).request(**_args(session, "req-unseen-01"))


class DownCity(InProcessCity):
    """A city that cannot answer at all; counts how often it was asked."""

    asked = 0

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        raise WorkerKilled

    def outcome(self, city: str, request_id: str) -> StoreOutcome:
        type(self).asked += 1
        raise Refused("city_unavailable", "city could not answer just now")


def test_a_city_down_is_asked_once_a_turn_and_its_issuances_wait(world: dict[str, Any]) -> None:
    center = center_for(world, DownCity)
    for request_id in ("req-down-0001", "req-down-0002"):
        session = sign_in(center, world)  # a session serves one request
        with pytest.raises(WorkerKilled):
            center.request(**_args(session, request_id))
    DownCity.asked = 0
    later = center_for(world, DownCity, clock=FixedClock(NOON.now() + timedelta(minutes=1)))
    assert later.recover_stuck() == 0
    assert DownCity.asked == 1  # the second issuance of that city waits for the next turn
    assert {_issuance(world, r).state for r in ("req-down-0001", "req-down-0002")} == {"requested"}
    assert _later(world, 2).recover_stuck() == 2  # the city is back: both end
