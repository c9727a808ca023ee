"""The center's issuance: one request, one issuance, one charge; never another person's document."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import func, select

from kofu.card.reader import JpkiCard
from kofu.center import tables as ct
from kofu.center.auth import ocsp_status
from kofu.center.service import CenterService
from kofu.center.signing import center_signer, published_certificates, published_folder
from kofu.city.adapters import tables as cityt
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.card_desk import personalise
from kofu.city.services.seeding import seed_city
from kofu.city.services.store import answer_store_request
from kofu.cli.wiring import LocalAuthority
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import Conflict, Refused
from kofu.core.settings import Settings
from kofu.documents.verify import verify_file

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))  # a Tuesday
CITY = "032051"


class InProcessCity:
    """The city's certificate server called in-process (the HTTP form is tested in tests/city)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def issue(self, city: str, body: dict[str, Any]) -> dict[str, Any]:
        return answer_store_request(
            uow=CityUnitOfWork(self.engine), code=city, rules=StoreRules(), clock=NOON, request=body
        )


class WrongPersonCity(InProcessCity):
    """A faulty connector that answers with another person's document (fault injection)."""

    def issue(self, city: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = super().issue(city, body)
        return answer | {"holder_digest": "0" * 64}


class InProcessDirectory:
    def __init__(self, authority: LocalAuthority) -> None:
        self.service = authority.service

    def lookup(self, serial: str) -> dict[str, Any]:
        from kofu.core.holder import holder_digest

        record = self.service.status(int(serial, 16))
        assert record is not None
        return {
            "city": record.city,
            "holder_digest": holder_digest(record.city, record.resident_code),
        }

    def status_of(self, cert: x509.Certificate) -> str:
        issuer = self.service.authority.cas.issuing[CertKind.AUTH]
        return ocsp_status(cert, issuer, lambda der: self.service.ocsp_response(CertKind.AUTH, der))


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    city_engine = make_engine(f"sqlite:///{tmp_path / 'city.sqlite'}")
    migrate(city_engine, "city")
    seed_city(engine=city_engine, code=CITY, residents=120, seed=5, today=date(2026, 11, 24))
    authority = LocalAuthority(Settings(tmp_path, None, ""), "http://127.0.0.1:8801")
    with CityUnitOfWork(city_engine, today=NOON.today()) as uow:
        holder = uow.registers.sample_holder()
        assert holder is not None
        element, record = personalise(
            authority=authority,
            city=CITY,
            person=holder,
            card_id="032051-1",
            expires_on=date(2036, 1, 1),
            pin="1234",
            password=None,
            today=NOON.today(),
        )
        uow.cards.save_card(record.model_copy(update={"application_id": "A1"}))
        uow.commit()
    center_engine = make_engine(f"sqlite:///{tmp_path / 'center.sqlite'}")
    migrate(center_engine, "center")
    issuer = authority.service.authority.cas.issuing[CertKind.AUTH]
    return {
        "home": tmp_path,
        "city": city_engine,
        "center": center_engine,
        "card": element,
        "holder": holder,
        "issuer": issuer,
        "directory": InProcessDirectory(authority),
    }


def _center(world: dict[str, Any], link: type[InProcessCity] = InProcessCity) -> CenterService:
    return CenterService(
        world["center"],
        NOON,
        center_signer(world["home"]),
        world["issuer"],
        world["directory"],
        link(world["city"]),
    )


def _sign_in(center: CenterService, world: dict[str, Any]) -> str:
    session, challenge = center.open_session()
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    center.authenticate(
        session, card.read_certificate(CertKind.AUTH), card.sign(CertKind.AUTH, challenge)
    )
    return session


def _count(engine: Any, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_issue_print_and_settle_once(world: dict[str, Any], tmp_path: Path) -> None:
    center = _center(world)
    session = _sign_in(center, world)
    args = {
        "session": session,
        "request_id": "store-7-000001",
        "certificate": "juminhyo",
        "options": {},
        "copies": 2,
        "store": "7-0001",
        "chain": "seven",
    }
    job = center.request(**args)
    assert job.fee == 400 and job.state == "rendered"
    again = center.request(**args)  # a retry: the same print job, no second issuance
    assert again.pdf == job.pdf
    assert _count(world["city"], cityt.issuance_log) == 1
    pdf = tmp_path / "job.pdf"
    pdf.write_bytes(job.pdf)
    verified = verify_file(pdf, published_certificates(published_folder(world["home"])))
    assert verified.content_checked and verified.claims.holder_name == world["holder"].name
    center.printed("store-7-000001")
    center.printed("store-7-000001")  # confirming twice charges once
    with pytest.raises(Conflict):
        center.request(**args)
    month = center.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month == [{"city": CITY, "chain": "seven", "issuances": 1, "copies": 2, "fees": 400}]
    assert (
        "複写"
        in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    )


def test_a_voided_print_is_not_charged(world: dict[str, Any]) -> None:
    center = _center(world)
    session = _sign_in(center, world)
    center.request(
        session=session,
        request_id="req-void-01",
        certificate="juminhyo",
        options={},
        copies=1,
        store="L-1",
        chain="lawson",
    )
    center.voided("req-void-01", "print timeout")
    with pytest.raises(Conflict):
        center.printed("req-void-01")
    month = center.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month == []


def test_a_city_refusal_passes_through_and_voids(world: dict[str, Any]) -> None:
    center = _center(world)
    session = _sign_in(center, world)
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-refuse-1",
            certificate="juminhyo",
            options={"with": ["resident_code"]},
            copies=1,
            store="F-1",
            chain="family",
        )
    assert info.value.reason == "item_not_at_store"
    assert _count(world["center"], ct.issuances, ct.issuances.c.state == "voided") == 1


def test_another_persons_document_stops_the_city(world: dict[str, Any]) -> None:
    center = _center(world, WrongPersonCity)
    session = _sign_in(center, world)
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-wrong-01",
            certificate="juminhyo",
            options={},
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert info.value.reason == "service_stopped"
    assert _count(world["center"], ct.alarms) == 1
    honest = _center(world)
    session = _sign_in(honest, world)
    with pytest.raises(Refused) as stopped:
        honest.request(
            session=session,
            request_id="req-after-01",
            certificate="juminhyo",
            options={},
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert stopped.value.reason == "service_stopped"


def test_an_unauthenticated_session_gets_nothing(world: dict[str, Any]) -> None:
    center = _center(world)
    session, _ = center.open_session()
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-anon-001",
            certificate="juminhyo",
            options={},
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert info.value.reason == "session_unknown"


def test_an_unconfirmed_print_times_out_whole_and_uncharged(world: dict[str, Any]) -> None:
    center = _center(world)
    session = _sign_in(center, world)
    center.request(
        session=session,
        request_id="req-late-001",
        certificate="juminhyo",
        options={},
        copies=1,
        store="7-2",
        chain="seven",
    )
    later = CenterService(
        world["center"],
        FixedClock(NOON.now() + timedelta(minutes=6)),
        center_signer(world["home"]),
        world["issuer"],
        world["directory"],
        InProcessCity(world["city"]),
    )
    with pytest.raises(Conflict, match="print timeout"):
        later.printed("req-late-001")  # the late confirmation finds the issuance voided
    assert _count(world["center"], ct.issuances, ct.issuances.c.state == "voided") == 1
    assert (
        later.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST)) == []
    )


def test_workers_share_sessions_and_a_challenge_is_answered_once(world: dict[str, Any]) -> None:
    first, second = _center(world), _center(world)  # two workers over one store
    session, challenge = first.open_session()
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    answer = (card.read_certificate(CertKind.AUTH), card.sign(CertKind.AUTH, challenge))
    second.authenticate(session, *answer)
    with pytest.raises(Refused) as replay:
        first.authenticate(session, *answer)  # the same answer on another worker
    assert replay.value.reason == "challenge_unknown"
    job = first.request(
        session=session,
        request_id="req-workers-1",
        certificate="juminhyo",
        options={},
        copies=1,
        store="7-3",
        chain="seven",
    )
    second.printed(job.request_id)
    month = first.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month[0]["issuances"] == 1
