"""The center's use cases on every store: the in-memory fake, SQLite and PostgreSQL.

The same scenarios run on the fake unit of work (fast, the rules alone) and
on the SQL ones (where the conditional statements are the point).  The city
and the authority are small in-memory stand-ins speaking the contracts; the
session is bound straight in the session book (signing in with a card is
tested in test_sessions.py and test_auth.py).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from reportlab.pdfgen import canvas

from fakes.center import MemoryCenter
from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.domain.auth import Authenticated
from kofu.center.domain.log import LogQuery
from kofu.center.domain.ports import UnitsOfWork
from kofu.center.services.issuance import CenterService
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import IssueOptions, StoreAnswer, StoreOutcome, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.core.holder import holder_digest
from stores import fresh_store

CITY, RESIDENT, SERIAL = "032051", "12345678901", "abc123"
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=JST)
BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pdf() -> bytes:
    import io

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "juminhyo")
    page.save()
    return out.getvalue()


PDF = _pdf()


class StandInCity:
    """A city that keeps its answer under every request id, and can be made to misbehave."""

    def __init__(self) -> None:
        self.kept: dict[str, StoreAnswer] = {}
        self.issued = 0
        self.lose_next = False  # the answer is lost on the way back (the city did issue)
        self.wrong_holder = False
        self.corrupt = False

    def issue(self, city: str, request: StoreRequest) -> StoreAnswer:
        if request.request_id not in self.kept:
            self.issued += 1
            self.kept[request.request_id] = StoreAnswer(
                request_id=request.request_id,
                city=city,
                certificate=request.certificate,
                issue_number=self.issued,
                content_digest=hashlib.sha256(PDF).hexdigest(),
                holder_digest=holder_digest(city, RESIDENT),
                holder_name="山田 太郎",
                fee=200,
                pdf_base64=base64.b64encode(PDF).decode(),
            )
        answer = self.kept[request.request_id]
        if self.lose_next:
            self.lose_next = False
            raise Refused("city_unavailable", "lost on the way back")
        if self.wrong_holder:
            answer = answer.model_copy(update={"holder_digest": "0" * 64})
        if self.corrupt:
            answer = answer.model_copy(update={"pdf_base64": base64.b64encode(PDF + b"x").decode()})
        return answer

    def outcome(self, city: str, request_id: str) -> StoreOutcome:
        if request_id in self.kept:
            return StoreOutcome(request_id=request_id, state="issued", answer=self.kept[request_id])
        return StoreOutcome(request_id=request_id, state="unknown")

    def abandon(self, city: str, request_id: str) -> StoreOutcome:
        return StoreOutcome(request_id=request_id, state="abandoned")

    def identity(self, city: str, request: IdentityRequest) -> Identity:
        raise NotImplementedError

    def register_domicile(self, city: str, application: DomicileApplication) -> DomicileAnswer:
        raise NotImplementedError

    def connected(self) -> list[ConnectedCity]:
        return [ConnectedCity(code=CITY, name="花巻市")]

    def health(self) -> dict[str, str | None]:
        return {CITY: "花巻市"}


class StandInDirectory:
    def lookup(self, serial: str) -> CertificateStatus:
        digest = holder_digest(CITY, RESIDENT)
        return CertificateStatus(
            serial=serial, status="good", city=CITY, holder_digest=digest, resident_code=RESIDENT
        )

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        return "good"


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return center_signer(tmp_path_factory.mktemp("center-home"))


@pytest.fixture(params=BACKENDS)
def units(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitsOfWork]:
    if request.param == "memory":
        yield MemoryCenter()
        return
    with fresh_store(request.param, tmp_path, "center") as engine:
        yield sql_units(engine)


def _center(units: UnitsOfWork, signer: Any, city: StandInCity, at: datetime = NOON) -> Any:
    return CenterService(
        units,
        FixedClock(at),
        signer,
        None,
        StandInDirectory(),
        city,  # type: ignore[arg-type]
    )


def _session(units: UnitsOfWork, name: str, kiosk: str = "") -> str:
    """A session signed in by the card ``SERIAL`` (its certificate's status not asked again)."""
    with units() as uow:
        who = Authenticated(SERIAL, NOON + timedelta(days=365))
        uow.sessions.bind(name, who, NOON + timedelta(minutes=10), kiosk)
        uow.commit()
    return name


def _ask(center: CenterService, session: str, request_id: str, copies: int = 1) -> Any:
    return center.request(
        session=session,
        request_id=request_id,
        certificate="juminhyo",
        options=IssueOptions(),
        copies=copies,
        store="store-1",
        chain="chain-a",
    )


def test_an_issuance_is_once_per_request_id_and_charged_when_printed(
    units: UnitsOfWork, signer: Any
) -> None:
    city = StandInCity()
    center = _center(units, signer, city)
    session = _session(units, "s1")
    job = _ask(center, session, "req-00001", copies=2)
    again = _ask(center, session, "req-00001", copies=2)
    assert (job.state, job.fee, again.pdf, city.issued) == ("rendered", 400, job.pdf, 1)
    assert job.pdf.startswith(b"%PDF") and job.pdf != PDF  # stamped
    with pytest.raises(Refused) as spent:
        _ask(center, session, "req-00002")
    assert spent.value.reason == "session_used"
    with pytest.raises(Conflict):
        _ask(center, session, "req-00001", copies=3)  # the same id for another request
    center.printed("req-00001")
    center.printed("req-00001")  # idempotent
    month = center.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month == [{"city": CITY, "chain": "chain-a", "issuances": 1, "copies": 2, "fees": 400}]
    assert center.status()["issuances"] == {"printed": 1}


def test_another_persons_answer_voids_alarms_and_stops_the_city(
    units: UnitsOfWork, signer: Any
) -> None:
    city = StandInCity()
    city.wrong_holder = True
    center = _center(units, signer, city)
    with pytest.raises(Refused) as stopped:
        _ask(center, _session(units, "s1"), "req-00001")
    assert stopped.value.reason == "service_stopped"
    city.wrong_holder = False
    with pytest.raises(Refused) as still:
        _ask(center, _session(units, "s2"), "req-00002")
    assert still.value.reason == "service_stopped" and city.issued == 1  # never asked again
    status = center.status()
    assert status["stopped_cities"] == [CITY] and status["issuances"] == {"voided": 1}
    assert [a["kind"] for a in status["alarms"]] == ["holder_mismatch"]


def test_bytes_not_the_declared_ones_are_a_mis_issuance(units: UnitsOfWork, signer: Any) -> None:
    city = StandInCity()
    city.corrupt = True
    center = _center(units, signer, city)
    with pytest.raises(Refused):
        _ask(center, _session(units, "s1"), "req-00001")
    assert [a["kind"] for a in center.status()["alarms"]] == ["content_mismatch"]


def test_a_lost_answer_is_asked_again_under_the_same_id(units: UnitsOfWork, signer: Any) -> None:
    city = StandInCity()
    city.lose_next = True
    center = _center(units, signer, city)
    session = _session(units, "s1")
    with pytest.raises(Refused) as lost:
        _ask(center, session, "req-00001")
    assert lost.value.reason == "city_unavailable"
    assert center.status()["issuances"] == {"requested": 1}
    job = _ask(center, session, "req-00001")  # the kiosk's retry
    assert job.state == "rendered" and city.issued == 1  # the city's kept answer, not a second


def test_an_unconfirmed_print_voids_whole_and_a_late_confirmation_is_refused(
    units: UnitsOfWork, signer: Any
) -> None:
    center = _center(units, signer, StandInCity())
    _ask(center, _session(units, "s1"), "req-00001")
    later = _center(units, signer, StandInCity(), NOON + timedelta(minutes=6))
    assert later.void_unconfirmed() == 1
    with pytest.raises(Conflict, match="print timeout"):
        later.printed("req-00001")
    assert later.status()["issuances"] == {"voided": 1}


def test_a_request_whose_worker_died_is_recovered_by_the_sweep(
    units: UnitsOfWork, signer: Any
) -> None:
    city = StandInCity()
    city.lose_next = True
    center = _center(units, signer, city)
    with pytest.raises(Refused):
        _ask(center, _session(units, "s1"), "req-00001")
    with units() as uow:  # and one the city never saw
        entry = uow.issuances.get("req-00001")
        assert entry is not None
        uow.issuances.add(
            entry.__class__(**(entry.__dict__ | {"request_id": "req-00002", "reason": None}))
        )
        uow.commit()
    later = _center(units, signer, city, NOON + timedelta(minutes=1))
    assert later.recover_stuck() == 2
    with units() as uow:
        first, second = uow.issuances.get("req-00001"), uow.issuances.get("req-00002")
    assert first is not None and first.state == "rendered"
    assert second is not None and (second.state, second.reason) == ("voided", "city_never_issued")


def test_ended_sessions_are_forgotten(units: UnitsOfWork, signer: Any) -> None:
    _session(units, "s1")
    later = _center(units, signer, StandInCity(), NOON + timedelta(minutes=11))
    assert later.desk.forget_old() == 1
    with pytest.raises(Refused) as gone:
        _ask(later, "s1", "req-00001")
    assert gone.value.reason == "session_unknown"


def test_the_log_is_searched_by_time_city_chain_and_state(units: UnitsOfWork, signer: Any) -> None:
    city = StandInCity()
    center = _center(units, signer, city)
    center.printed(_ask(center, _session(units, "s1"), "req-00001").request_id)
    later = _center(units, signer, city, NOON + timedelta(minutes=1))
    _ask(later, _session(units, "s2"), "req-00002")
    assert [i.request_id for i in later.log(LogQuery())] == ["req-00002", "req-00001"]
    assert [i.request_id for i in later.log(LogQuery(state="printed"))] == ["req-00001"]
    assert later.log(LogQuery(city="112186")) == [] and later.log(LogQuery(chain="other")) == []
    recent = later.log(LogQuery(since=NOON + timedelta(seconds=30), limit=1))
    assert [i.request_id for i in recent] == ["req-00002"] and recent[0].print_job is None
    with pytest.raises(InvalidInput):
        LogQuery(state="charged")
    with pytest.raises(InvalidInput):
        LogQuery(since=NOON, until=NOON)


def _stopped_by_a_wrong_answer(units: UnitsOfWork, signer: Any, name: str) -> Any:
    """A center whose city answered another person's document under ``name``: stopped."""
    city = StandInCity()
    city.wrong_holder = True
    center = _center(units, signer, city)
    with pytest.raises(Refused):
        _ask(center, _session(units, f"s-{name}"), name)
    city.wrong_holder = False
    return center, city


def test_a_supervisors_resume_lets_the_city_issue_until_the_next_alarm(
    units: UnitsOfWork, signer: Any
) -> None:
    center, city = _stopped_by_a_wrong_answer(units, signer, "req-00001")
    resumed = center.resume(
        request_id="resume-1", city=CITY, reason="  connector fixed  ", operator="operator-sv-a"
    )
    assert resumed == {
        "request_id": "resume-1",
        "at": "2026-11-24T03:00:00+00:00",  # noon in Japan, kept in UTC
        "city": CITY,
        "operator": "operator-sv-a",
        "reason": "connector fixed",
    }
    again = center.resume(
        request_id="resume-1", city=CITY, reason="connector fixed", operator="operator-sv-a"
    )
    assert again == resumed  # the same request id: the same resume, not a second one
    status = center.status()
    assert status["stopped_cities"] == [] and status["resumes"] == [resumed]
    assert [a["kind"] for a in status["alarms"]] == ["holder_mismatch"]  # the alarm stays on record
    assert _ask(center, _session(units, "s2"), "req-00002").state == "rendered"
    city.wrong_holder = True  # a new alarm after the resume stops the city again
    with pytest.raises(Refused):
        _ask(center, _session(units, "s3"), "req-00003")
    city.wrong_holder = False
    with pytest.raises(Refused) as stopped:
        _ask(center, _session(units, "s4"), "req-00004")
    assert stopped.value.reason == "service_stopped"
    assert center.status()["stopped_cities"] == [CITY]


def test_a_resume_refused_names_its_field_and_changes_nothing(
    units: UnitsOfWork, signer: Any
) -> None:
    center, _ = _stopped_by_a_wrong_answer(units, signer, "req-00001")
    for request_id, code, reason, field in [
        ("r-1", CITY, "  ", "reason"),
        ("r-2", "12", "fixed", "city"),
        ("", CITY, "fixed", "request_id"),
        ("r-3", CITY, "x" * 501, "reason"),
    ]:
        with pytest.raises(InvalidInput) as bad:
            center.resume(request_id=request_id, city=code, reason=reason, operator="sv")
        assert bad.value.field == field
    with pytest.raises(NotFound) as unknown:
        center.resume(request_id="r-4", city="999999", reason="fixed", operator="sv")
    assert unknown.value.field == "city"
    assert center.status()["stopped_cities"] == [CITY] and center.status()["resumes"] == []
    center.resume(request_id="r-6", city=CITY, reason="fixed", operator="sv")
    with pytest.raises(Conflict) as twice:  # resumed already: nothing left to resume
        center.resume(request_id="r-7", city=CITY, reason="fixed", operator="sv")
    assert twice.value.field == "city" and "not stopped" in twice.value.message
    with pytest.raises(Conflict) as reused:  # the request id of another resume
        center.resume(request_id="r-6", city=CITY, reason="other", operator="sv")
    assert reused.value.field == "request_id"
    assert len(center.status()["resumes"]) == 1


def test_an_ended_session_is_never_spent_and_only_its_kiosk_ends_it(
    units: UnitsOfWork, signer: Any
) -> None:
    center = _center(units, signer, StandInCity())
    session = _session(units, "s-ended", kiosk="kiosk-a")
    with pytest.raises(Refused) as foreign:
        center.end_session(session, "kiosk-b")
    assert foreign.value.reason == "session_other_kiosk"
    with pytest.raises(NotFound) as unknown:
        center.end_session("no-such-session", "kiosk-a")
    assert unknown.value.field == "session"
    center.end_session(session, "kiosk-a")
    center.end_session(session, "kiosk-a")  # idempotent
    with pytest.raises(Refused) as ended:
        center.request(
            session=session,
            request_id="req-ended-1",
            certificate="juminhyo",
            options=IssueOptions(),
            copies=1,
            store="store-1",
            chain="chain-a",
            kiosk="kiosk-a",
        )
    assert ended.value.reason == "session_unknown" and center.status()["issuances"] == {}
    with units() as uow:  # left unspent, it still counts against the card (stolen-card watch)
        assert uow.sessions.failures_since(SERIAL, NOON - timedelta(minutes=15), NOON) == 1
