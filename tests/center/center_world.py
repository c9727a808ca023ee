"""One city, one card, one authority and a center store, wired in-process for center tests."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from sqlalchemy import func, select

from kofu.card.reader import JpkiCard
from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.domain.auth import ocsp_status
from kofu.center.services.issuance import CenterService
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.card_desk import personalise
from kofu.city.services.seeding import seed_city
from kofu.city.services.store import (
    abandon_store_request,
    answer_store_request,
    record_store_prints,
    store_request_outcome,
)
from kofu.cli.wiring import LocalAuthority
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import (
    IssueOptions,
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrints,
    StoreRequest,
)
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, Clock, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import Refused
from kofu.core.settings import Settings

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))  # a Tuesday
CITY = "032051"


class InProcessCity:
    """The city's certificate server called in-process (the HTTP form is tested in tests/city)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        return answer_store_request(
            uow=CityUnitOfWork(self.engine), code=city, rules=StoreRules(), clock=NOON, request=body
        )

    def outcome(self, city: str, request_id: str) -> StoreOutcome:
        return store_request_outcome(uow=CityUnitOfWork(self.engine), request_id=request_id)

    def abandon(self, city: str, request_id: str) -> StoreOutcome:
        return abandon_store_request(
            uow=CityUnitOfWork(self.engine), request_id=request_id, clock=NOON
        )

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        return record_store_prints(
            uow=CityUnitOfWork(self.engine), code=city, notices=prints, clock=NOON
        )

    def connected(self) -> list[ConnectedCity]:
        """The one city, by the name in its profile (for a kiosk's choice of domicile city)."""
        with CityUnitOfWork(self.engine, today=NOON.today()) as uow:
            profile = uow.registers.profile()
        return [ConnectedCity(code=CITY, name=profile.name if profile else CITY)]

    def health(self) -> dict[str, str | None]:
        """The one city, answering in-process."""
        return {c.code: c.name for c in self.connected()}


class WrongPersonCity(InProcessCity):
    """A faulty connector that answers with another person's document (fault injection)."""

    def issue(self, city: str, body: StoreRequest) -> StoreAnswer:
        answer = super().issue(city, body)
        return answer.model_copy(update={"holder_digest": "0" * 64})


class InProcessDirectory:
    def __init__(self, authority: LocalAuthority) -> None:
        self.service = authority.service

    def lookup(self, serial: str) -> CertificateStatus:
        from kofu.core.holder import holder_digest

        record = self.service.status(int(serial, 16))
        assert record is not None
        return CertificateStatus(
            serial=serial,
            status="good",
            city=record.city,
            holder_digest=holder_digest(record.city, record.resident_code),
            resident_code=record.resident_code,
        )

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        issuer = self.service.authority.cas.issuing[CertKind.AUTH]

        def ask(der: bytes) -> bytes:
            return self.service.ocsp_response(CertKind.AUTH, der)

        return ocsp_status(cert, issuer, ask, NOON.now())


def make_world(tmp_path: Path, center_engine: Any = None) -> dict[str, Any]:
    """A seeded city, a card for its sample holder, the authority in-process, a center store."""
    city_engine = make_engine(f"sqlite:///{tmp_path / 'city.sqlite'}")
    migrate(city_engine, "city")
    seed_city(engine=city_engine, code=CITY, residents=120, seed=5, today=date(2026, 11, 24))
    authority = LocalAuthority(Settings(tmp_path, None, ""), "http://127.0.0.1:8801", NOON)
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
    if center_engine is None:  # the center's own store: SQLite unless the test gives one
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
        "authority": authority,
    }


def center_for(
    world: dict[str, Any], link: type[InProcessCity] = InProcessCity, clock: Clock = NOON
) -> CenterService:
    return CenterService(
        sql_units(world["center"]),
        clock,
        center_signer(world["home"]),
        world["issuer"],
        world["directory"],
        link(world["city"]),
    )


def sign_in(center: CenterService, world: dict[str, Any]) -> str:
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


def count_rows(engine: Any, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def stop_the_city(world: dict[str, Any], request_id: str = "store-bad-000001") -> None:
    """The city's link once answered another person's document: an alarm stops the city."""
    faulty = center_for(world, WrongPersonCity)
    try:
        faulty.request(
            session=sign_in(faulty, world),
            request_id=request_id,
            certificate="juminhyo",
            options=IssueOptions(),
            copies=1,
            store="7-1",
            chain="seven",
        )
    except Refused:
        return
    raise AssertionError("the center printed another person's document")
