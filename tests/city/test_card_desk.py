"""The My Number card desk at the service level, on SQLite and PostgreSQL.

Applications by every channel (and a care facility's group, all or none), issuance
slots and their capacity, the notice and the booking, the handover with its
identity and PIN rules, and what happens to a card afterwards: register events and
the desk's own reports revoke its certificates through the city's outbox, renewal
replaces them, and a locked PIN is reset at the counter.

The authority is the real JPKI service in-process (``LocalAuthority``), its store
under the test's ``tmp_path``; its three CA keys are made once per session and
copied.  Each handover makes two RSA-2048 keys on the card, so the tests hand over
only the few cards they need.  Every refusal is checked to leave every city table
(and the card file, and the authority) as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import ocsp
from sqlalchemy import Engine, func, select

from kofu.card.reader import JpkiCard, PinError
from kofu.card.storage import load_card, save_card
from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import (
    LEAD_TIME,
    ApplicationChannel,
    ApplicationStatus,
    CardApplication,
    CardRecord,
    CardState,
    IssuanceSlot,
    SlotKind,
    renewal_opens,
)
from kofu.city.domain.events import Change
from kofu.city.domain.model import Resident
from kofu.city.services import card_desk as desk
from kofu.city.services.events import apply_events
from kofu.city.services.outbox import deliver_to_jpki
from kofu.cli.wiring import LocalAuthority
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused
from kofu.core.identifiers import resident_code_check_digit
from kofu.core.settings import Settings
from kofu.evaluation.adapters.store import StoreFacts
from kofu.evaluation.domain.programme import Programme
from kofu.evaluation.domain.sheet import Valuer
from kofu.jpki.adapters import tables as jpki_tables
from kofu.jpki.adapters.repository import CertificateRecord

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)  # the conftest clock, a Monday
TODAY = NOW.date()
ARRIVED = NOW + LEAD_TIME  # 2026-12-23, a Wednesday: the cards applied for today arrive
HANDOVER = datetime(2026, 12, 24, 10, 0, tzinfo=JST)  # a Thursday
HANDOVER_DAY = HANDOVER.date()
SLOT_AT = datetime(2026, 12, 24, 9, 30, tzinfo=JST)
LATER = datetime(2027, 1, 6, 10, 0, tzinfo=JST)  # events and reports after the handover
JPKI_URL = "http://127.0.0.1:8801"
MASTER_KEY = bytes(range(32))
PIN, PASSWORD = "1234", "ABC123"
TWO_B = ("health_insurance", "pension_book")

Rows = dict[str, list[dict[str, Any]]]


def at(instant: datetime) -> FixedClock:
    return FixedClock(instant)


def nth_birthday_after(birth: date, day: date, n: int) -> date:
    """Counted by hand: the n-th birthday strictly after ``day`` (29 Feb → 28 Feb)."""
    found: list[date] = []
    year = day.year
    while len(found) < n:
        try:
            birthday = birth.replace(year=year)
        except ValueError:
            birthday = date(year, 2, 28)
        if birthday > day:
            found.append(birthday)
        year += 1
    return found[-1]


def pem_serial(pem: str) -> str:
    return f"{x509.load_pem_x509_certificate(pem.encode()).serial_number:x}"


# --- the authority ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _authority_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The authority's key directory (three CA keys and certificates), made once."""
    home = tmp_path_factory.mktemp("jpki_keys")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KOFU_NOW", NOW.isoformat())
        made = LocalAuthority(Settings(home=home, database_url=None, schema_prefix=""), JPKI_URL)
        made.engine.dispose()
    return home / "jpki"


@pytest.fixture
def authority(
    _authority_keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LocalAuthority]:
    """This test's own authority: the shared CA keys, an empty certificate store."""
    home = tmp_path / "authority"
    shutil.copytree(_authority_keys, home / "jpki")
    monkeypatch.setenv("KOFU_NOW", HANDOVER.isoformat())
    made = LocalAuthority(Settings(home=home, database_url=None, schema_prefix=""), JPKI_URL)
    yield made
    made.engine.dispose()


class Desk:
    """The city's card desk and the authority behind it, each call on its own clock."""

    def __init__(self, engine: Engine, authority: LocalAuthority, cards: Path) -> None:
        self.engine = engine
        self.authority = authority
        self.cards = cards

    def uow(self, on: date = TODAY) -> CityUnitOfWork:
        return CityUnitOfWork(self.engine, today=on)

    def residents(self, on: date = TODAY) -> list[Resident]:
        with self.uow(on) as uow:
            return [p for p in uow.registers.residents() if p.is_resident]

    def apply(self, code: str, channel: str = "counter", **extra: Any) -> CardApplication:
        return desk.apply_for_card(
            uow=self.uow(), resident_code=code, channel=channel, clock=at(NOW), **extra
        )

    def slot(self, starts_at: datetime = SLOT_AT, capacity: int = 1) -> IssuanceSlot:
        return desk.add_slot(
            uow=self.uow(),
            starts_at=starts_at,
            minutes=30,
            capacity=capacity,
            kind="regular",
            clock=at(NOW),
        )

    def notify(self, instant: datetime = ARRIVED) -> list[CardApplication]:
        return desk.send_notices(uow=self.uow(instant.date()), clock=at(instant))

    def book(self, application_id: str, slot_id: str) -> CardApplication:
        return desk.book_slot(
            uow=self.uow(ARRIVED.date()),
            application_id=application_id,
            slot_id=slot_id,
            clock=at(ARRIVED),
        )

    def booked(self, code: str) -> str:
        """Apply today, let the card arrive, notify, book a slot: the application id."""
        application = self.apply(code)
        self.notify()
        self.book(application.application_id, self.slot().slot_id)
        return application.application_id

    def card_path(self, code: str) -> Path:
        return self.cards / f"{code}.card.json"

    def hand_over(
        self,
        application_id: str,
        code: str,
        *,
        documents: Sequence[str] = ("driving_licence",),
        pin: str = PIN,
        password: str | None = PASSWORD,
        card_path: Path | None = None,
    ) -> CardRecord:
        self.authority.service.clock = at(HANDOVER)
        return desk.hand_over(
            uow=self.uow(HANDOVER_DAY),
            application_id=application_id,
            documents=documents,
            pin=pin,
            password=password,
            authority=self.authority,
            card_path=card_path or self.card_path(code),
            master_key=MASTER_KEY,
            clock=at(HANDOVER),
        )

    def issue(self, person: Resident, **options: Any) -> CardRecord:
        """The whole flow for one resident, the card handed over on HANDOVER."""
        return self.hand_over(self.booked(person.resident_code), person.resident_code, **options)

    def events(self, *events: dict[str, Any], instant: datetime = LATER) -> list[Change]:
        return apply_events(uow=self.uow(instant.date()), events=list(events), clock=at(instant))

    def deliver(self, instant: datetime = LATER) -> dict[str, int]:
        self.authority.service.clock = at(instant)
        return deliver_to_jpki(
            uow=self.uow(instant.date()), authority=self.authority, clock=at(instant)
        )

    def record(self, card_id: str) -> CardRecord:
        with self.uow() as uow:
            found = uow.cards.card(card_id)
        assert found is not None
        return found

    def pending(self) -> list[dict[str, Any]]:
        with self.uow() as uow:
            return [m.payload for m in uow.outbox.pending("jpki")]

    def cert(self, serial: str | None) -> CertificateRecord:
        assert serial is not None
        found = self.authority.service.status(int(serial, 16))
        assert found is not None, f"the authority knows no certificate {serial}"
        return found

    def states(self, record: CardRecord) -> tuple[tuple[str, str | None], ...]:
        """(status, cause) of the card's auth and sign certificates at the authority."""
        return tuple(
            (c.status, c.cause)
            for c in (self.cert(record.auth_serial), self.cert(record.sign_serial))
        )

    def issued_count(self) -> int:
        with self.authority.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(jpki_tables.certificates)
                ).scalar_one()
            )

    def ocsp(self, pem: str, kind: CertKind) -> tuple[ocsp.OCSPCertStatus, x509.ReasonFlags | None]:
        """The authority's OCSP answer for one certificate: its status and revocation reason."""
        cert = x509.load_pem_x509_certificate(pem.encode())
        issuer = self.authority.service.authority.cas.issuing[kind]
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
        der = self.authority.service.ocsp_response(
            kind, request.public_bytes(serialization.Encoding.DER)
        )
        answer = ocsp.load_der_ocsp_response(der)
        assert answer.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
        assert answer.serial_number == cert.serial_number
        return answer.certificate_status, answer.revocation_reason

    def status(self, code: str) -> dict[str, Any]:
        return desk.card_status(self.card_path(code), MASTER_KEY)

    def chip(self, code: str) -> JpkiCard:
        return JpkiCard(load_card(self.card_path(code), MASTER_KEY))


@pytest.fixture
def city(seeded_engine: Engine, authority: LocalAuthority, tmp_path: Path) -> Desk:
    cards = tmp_path / "cards"
    cards.mkdir()
    return Desk(seeded_engine, authority, cards)


def adults(city: Desk, on: date = HANDOVER_DAY) -> list[Resident]:
    return [p for p in city.residents() if p.age_on(on) >= 18]


def distinct_households(people: list[Resident], count: int) -> list[Resident]:
    chosen: list[Resident] = []
    for person in people:
        if all(person.household_id != c.household_id for c in chosen):
            chosen.append(person)
        if len(chosen) == count:
            return chosen
    raise AssertionError(f"the seeded city has fewer than {count} households to choose from")


def unknown_code(city: Desk) -> str:
    known = {p.resident_code for p in city.residents()}
    for n in range(100):
        base = f"{98765432 * 100 + n:010d}"
        code = base + str(resident_code_check_digit(base))
        if code not in known:
            return code
    raise AssertionError("no unused resident code")


def detail_of(error: BaseException) -> str | None:
    """A refusal's reason code, or the field any other error names."""
    if isinstance(error, Refused):
        return error.reason
    assert isinstance(error, KofuError)
    return error.field


def die(city: Desk, code: str, instant: datetime = NOW) -> None:
    city.events(
        {"kind": "death", "resident": code, "effective": instant.date().isoformat()},
        instant=instant,
    )


# --- applications -------------------------------------------------------------------------


def test_each_channel_records_an_application(city: Desk, db_rows: Callable[[], Rows]) -> None:
    people = city.residents()[: len(ApplicationChannel)]
    made = []
    for channel, person in zip(ApplicationChannel, people, strict=True):
        facility = (
            "特別養護老人ホーム 深谷の里" if channel is ApplicationChannel.GROUP_OUTREACH else None
        )
        made.append(city.apply(person.resident_code, channel.value, facility=facility))
    for application, channel, person in zip(made, ApplicationChannel, people, strict=True):
        assert application.channel is channel
        assert application.resident_code == person.resident_code
        assert application.status is ApplicationStatus.APPLIED
        assert (application.applied_on, application.arrives_on) == (TODAY, TODAY + LEAD_TIME)
        assert application.reason == "new" and application.slot_id is None
        assert application.application_id.startswith("A20261123")
        with city.uow() as uow:
            assert uow.cards.application(application.application_id) == application
            assert uow.cards.applications_of(person.resident_code) == [application]
    assert made[-1].facility == "特別養護老人ホーム 深谷の里"
    assert len({a.application_id for a in made}) == len(made)
    stored = db_rows()["card_applications"]
    assert sorted((r["resident_code"], r["status"]) for r in stored) == sorted(
        (p.resident_code, "applied") for p in people
    )


def test_a_group_applies_all_or_none(city: Desk, db_rows: Callable[[], Rows]) -> None:
    first, second, third, late = city.residents()[:4]
    die(city, late.resident_code)
    group = [first.resident_code, second.resident_code, third.resident_code]
    facility = "ケアハウス 深谷"
    for codes, error, reason in (
        ([*group, late.resident_code], Refused, "not_resident"),  # a removed record
        ([*group[:2], unknown_code(city)], NotFound, None),
        ([*group, group[0]], Conflict, None),  # the same person twice
    ):
        before = db_rows()
        with pytest.raises(error) as raised:
            desk.apply_group(uow=city.uow(), resident_codes=codes, facility=facility, clock=at(NOW))
        if reason:
            assert getattr(raised.value, "reason", None) == reason
        assert db_rows() == before, codes
    for codes, place, field in ((group, "  ", "facility"), ([], facility, "residents")):
        with pytest.raises(InvalidInput) as bad:
            desk.apply_group(uow=city.uow(), resident_codes=codes, facility=place, clock=at(NOW))
        assert bad.value.field == field
    assert db_rows()["card_applications"] == []

    made = desk.apply_group(uow=city.uow(), resident_codes=group, facility=facility, clock=at(NOW))
    assert [a.resident_code for a in made] == group
    assert {(a.channel, a.facility, a.status) for a in made} == {
        (ApplicationChannel.GROUP_OUTREACH, facility, ApplicationStatus.APPLIED)
    }
    assert len(db_rows()["card_applications"]) == 3


def test_applications_are_refused_with_a_reason(city: Desk, db_rows: Callable[[], Rows]) -> None:
    late, pending, holder, other = city.residents()[:4]
    die(city, late.resident_code)
    city.apply(pending.resident_code, "online")
    with city.uow() as uow:  # a card issued earlier (no keys are needed for this rule)
        uow.cards.save_card(
            CardRecord(
                card_id="112186-20200101-00000001",
                resident_code=holder.resident_code,
                application_id="A20191201000001",
                issued_on=date(2020, 1, 1),
                expires_on=date(2030, 1, 1),
                auth_serial="abc123",
                certificates_expire_on=date(2025, 1, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()
    cases: list[tuple[dict[str, Any], type[Exception], str | None]] = [
        ({"code": unknown_code(city)}, NotFound, "resident"),
        ({"code": late.resident_code}, Refused, "not_resident"),
        ({"code": pending.resident_code, "channel": "mail"}, Conflict, "resident"),
        ({"code": holder.resident_code}, Conflict, "resident"),
        ({"code": other.resident_code, "channel": "fax"}, InvalidInput, "channel"),
        ({"code": other.resident_code, "channel": "group_outreach"}, InvalidInput, "facility"),
        ({"code": other.resident_code, "reason": "renewal"}, InvalidInput, "reason"),
    ]
    for case, error, detail in cases:
        before = db_rows()
        with pytest.raises(error) as raised:
            city.apply(case.pop("code"), **case)
        found = raised.value
        assert detail_of(found) == detail
        assert db_rows() == before, (case, error)
    # A reissue is how a card holder applies again.
    again = city.apply(holder.resident_code, reason="reissue")
    assert again.reason == "reissue"


# --- slots, notices and bookings ----------------------------------------------------------


def test_slot_kinds_and_their_rules(city: Desk, db_rows: Callable[[], Rows]) -> None:
    monday, saturday = (
        datetime(2027, 1, 4, 9, 0, tzinfo=JST),
        datetime(2027, 1, 9, 10, 0, tzinfo=JST),
    )

    def add(starts_at: datetime, kind: str, minutes: int = 30, capacity: int = 4) -> IssuanceSlot:
        return desk.add_slot(
            uow=city.uow(),
            starts_at=starts_at,
            minutes=minutes,
            capacity=capacity,
            kind=kind,
            clock=at(NOW),
        )

    made = [
        add(monday, "regular", minutes=10),
        add(monday.replace(hour=17), "extended_hours", minutes=120),
        add(saturday, "weekend", capacity=0),
        add(saturday + timedelta(days=1), "weekend", minutes=480, capacity=500),
    ]
    assert [s.kind for s in made] == [
        SlotKind.REGULAR,
        SlotKind.EXTENDED_HOURS,
        SlotKind.WEEKEND,
        SlotKind.WEEKEND,
    ]
    assert made[1].ends_at == datetime(2027, 1, 4, 19, 0, tzinfo=JST)
    assert (made[0].booked, made[0].free, made[2].free) == (0, 4, 0)
    with city.uow() as uow:
        assert [uow.cards.slot(s.slot_id) for s in made] == made
        assert uow.cards.slots_from(monday) == made

    # The desk's hours are Japan time, however the instant is written.
    utc = [
        add(datetime(2027, 1, 5, 8, 0, tzinfo=UTC), "extended_hours"),  # Tuesday 17:00 JST
        add(datetime(2027, 1, 8, 16, 0, tzinfo=UTC), "weekend"),  # Saturday 01:00 JST
    ]
    assert [s.starts_at.astimezone(JST).isoformat() for s in utc] == [
        "2027-01-05T17:00:00+09:00",
        "2027-01-09T01:00:00+09:00",
    ]
    assert [s.slot_id.split("-")[0] for s in utc] == ["S202701051700", "S202701090100"]

    refused = [
        (datetime(2027, 1, 4, 7, 59, tzinfo=UTC), "extended_hours", 30, 4, "starts_at"),
        (datetime(2027, 1, 10, 16, 0, tzinfo=UTC), "weekend", 30, 4, "starts_at"),  # Mon 01:00
        (datetime(2027, 1, 4, 9, 0), "regular", 30, 4, "starts_at"),  # no zone
        (monday.replace(hour=16, minute=59), "extended_hours", 30, 4, "starts_at"),
        (saturday.replace(hour=18), "extended_hours", 30, 4, "starts_at"),
        (monday + timedelta(days=4), "weekend", 30, 4, "starts_at"),  # a Friday
        (NOW - timedelta(hours=1), "regular", 30, 4, "starts_at"),
        (NOW, "regular", 30, 4, "starts_at"),
        (monday, "regular", 9, 4, "minutes"),
        (monday, "regular", 481, 4, "minutes"),
        (monday, "regular", 30, -1, "capacity"),
        (monday, "regular", 30, 501, "capacity"),
        (monday, "night", 30, 4, "kind"),
    ]
    before = db_rows()
    for starts_at, kind, minutes, capacity, field in refused:
        with pytest.raises(InvalidInput) as bad:
            add(starts_at, kind, minutes, capacity)
        assert bad.value.field == field, (starts_at, kind, minutes, capacity)
    assert db_rows() == before


def test_capacity_changes_never_below_what_is_booked(
    city: Desk, db_rows: Callable[[], Rows]
) -> None:
    slot = city.slot(capacity=2)
    people = city.residents()[:3]
    applications = [city.apply(p.resident_code) for p in people]
    assert len(city.notify()) == 3
    for application in applications[:2]:
        city.book(application.application_id, slot.slot_id)
    with city.uow() as uow:
        full = uow.cards.slot(slot.slot_id)
    assert full is not None and (full.booked, full.free) == (2, 0)

    before = db_rows()
    with pytest.raises(Refused) as no_room:
        city.book(applications[2].application_id, slot.slot_id)
    assert no_room.value.reason == "slot_full"
    with pytest.raises(Conflict) as below:
        desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=1)
    assert below.value.field == "capacity"
    with pytest.raises(InvalidInput):
        desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=501)
    with pytest.raises(NotFound):
        desk.set_capacity(uow=city.uow(), slot_id="S209901010900-1", capacity=3)
    with pytest.raises(NotFound):
        city.book(applications[2].application_id, "S209901010900-1")
    assert db_rows() == before

    same = desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=2)
    assert (same.capacity, same.booked) == (2, 2)
    wider = desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=5)
    assert (wider.capacity, wider.booked, wider.free) == (5, 2, 3)
    third = city.book(applications[2].application_id, slot.slot_id)
    assert (third.status, third.slot_id) == (ApplicationStatus.BOOKED, slot.slot_id)
    with city.uow() as uow:
        stored = uow.cards.slot(slot.slot_id)
    assert stored is not None and (stored.capacity, stored.booked) == (5, 3)


def test_notices_and_bookings_wait_for_the_card(city: Desk, db_rows: Callable[[], Rows]) -> None:
    slot = city.slot()
    first, second = (city.apply(p.resident_code) for p in city.residents()[:2])
    assert first.arrives_on == date(2026, 12, 23)

    before = db_rows()
    with pytest.raises(Refused) as early:
        desk.book_slot(
            uow=city.uow(), application_id=first.application_id, slot_id=slot.slot_id, clock=at(NOW)
        )
    assert early.value.reason == "card_not_arrived"
    assert city.notify(ARRIVED - timedelta(days=1)) == []
    assert db_rows() == before

    sent = city.notify(ARRIVED)
    assert {a.application_id for a in sent} == {first.application_id, second.application_id}
    assert {(a.status, a.notice_sent_on) for a in sent} == {
        (ApplicationStatus.NOTIFIED, ARRIVED.date())
    }
    assert city.notify(ARRIVED + timedelta(days=1)) == []  # each notice goes out once

    booked = city.book(first.application_id, slot.slot_id)
    assert (booked.status, booked.slot_id, booked.notice_sent_on) == (
        ApplicationStatus.BOOKED,
        slot.slot_id,
        ARRIVED.date(),
    )
    before = db_rows()
    with pytest.raises(Conflict):  # already booked
        city.book(first.application_id, slot.slot_id)
    with pytest.raises(Refused) as full:
        city.book(second.application_id, slot.slot_id)
    assert full.value.reason == "slot_full"
    with pytest.raises(NotFound):
        city.book("A20261123999999", slot.slot_id)
    roomy = desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=3)
    with pytest.raises(Conflict):  # the slot has begun
        desk.book_slot(
            uow=city.uow(HANDOVER_DAY),
            application_id=second.application_id,
            slot_id=roomy.slot_id,
            clock=at(HANDOVER),
        )
    assert db_rows()["card_applications"] == before["card_applications"]


# --- the handover -------------------------------------------------------------------------


def test_handover_refusals_change_nothing(city: Desk, db_rows: Callable[[], Rows]) -> None:
    person, late = adults(city)[:2]
    application_id = city.booked(person.resident_code)
    late_application = city.booked(late.resident_code)
    die(city, late.resident_code, ARRIVED)
    unbooked = city.apply(city.residents()[-1].resident_code).application_id

    refusals: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"documents": ["health_insurance"]}, Refused, "identity_not_confirmed"),
        ({"documents": ["pension_book", "pension_book"]}, Refused, "identity_not_confirmed"),
        ({"documents": []}, Refused, "identity_not_confirmed"),
        ({"documents": ["student_card"]}, InvalidInput, "documents"),
        ({"pin": "123"}, InvalidInput, "pin"),
        ({"pin": "12345"}, InvalidInput, "pin"),
        ({"pin": "12a4"}, InvalidInput, "pin"),
        ({"pin": "１２３４"}, InvalidInput, "pin"),  # full-width digits
        ({"password": "abc123"}, InvalidInput, "pin"),
        ({"password": "ABC12"}, InvalidInput, "pin"),
        ({"password": "A" * 17}, InvalidInput, "pin"),
        ({"password": "ABC 123"}, InvalidInput, "pin"),
        ({"application_id": unbooked}, Conflict, "application"),
        ({"application_id": "A20261123999999"}, NotFound, "application"),
        ({"application_id": late_application}, Refused, "not_resident"),
        ({"card_path": city.cards / "no such folder" / "card.json"}, InvalidInput, "card_path"),
    ]
    before = db_rows()
    for case, error, detail in refusals:
        chosen = case.pop("application_id", application_id)
        with pytest.raises(error) as raised:
            city.hand_over(chosen, person.resident_code, **case)
        found = raised.value
        assert detail_of(found) == detail, case
        assert db_rows() == before, case
        assert list(city.cards.iterdir()) == [], case
    assert city.issued_count() == 0


def test_an_adult_card_lasts_to_the_tenth_birthday(city: Desk, db_rows: Callable[[], Rows]) -> None:
    day = HANDOVER_DAY
    person = max(adults(city), key=lambda p: p.birth_date)  # the youngest adult: 18 exactly
    assert person.age_on(day) == 18
    application_id = city.booked(person.resident_code)
    record = city.hand_over(application_id, person.resident_code, documents=TWO_B)

    assert record.resident_code == person.resident_code
    assert (record.issued_on, record.state) == (day, CardState.ACTIVE)
    assert record.expires_on == nth_birthday_after(person.birth_date, day, 10)
    assert record.certificates_expire_on == nth_birthday_after(person.birth_date, day, 5)
    assert record.card_id.startswith("112186-20261224-")
    with city.uow() as uow:
        assert uow.cards.card_by_auth_serial(record.auth_serial) == record
        assert uow.cards.cards_of(person.resident_code) == [record]
        application = uow.cards.application(application_id)
    assert application is not None
    assert (application.status, application.card_id) == (ApplicationStatus.ISSUED, record.card_id)
    rows = db_rows()
    assert [
        (r["card_id"], r["resident_code"], r["state"], r["auth_serial"]) for r in rows["cards"]
    ] == [(record.card_id, person.resident_code, "active", record.auth_serial)]
    assert rows["outbox"] == []

    status = city.status(person.resident_code)
    assert set(status) == {
        "card_id",
        "state",
        "expires_on",
        "auth_tries_left",
        "auth_certificate_pem",
        "sign_tries_left",
        "sign_certificate_pem",
    }
    assert (status["card_id"], status["state"], status["expires_on"]) == (
        record.card_id,
        "active",
        record.expires_on.isoformat(),
    )
    assert (status["auth_tries_left"], status["sign_tries_left"]) == (3, 5)
    auth_pem, sign_pem = status["auth_certificate_pem"], status["sign_certificate_pem"]
    assert auth_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert (pem_serial(auth_pem), pem_serial(sign_pem)) == (record.auth_serial, record.sign_serial)
    auth_cert = x509.load_pem_x509_certificate(auth_pem.encode())
    assert auth_cert.not_valid_after_utc.astimezone(JST).date() == record.certificates_expire_on

    # The chip holds the same certificate, and its key signs for it once the PIN is verified.
    chip = city.chip(person.resident_code)
    assert chip.read_certificate(CertKind.AUTH) == auth_cert.public_bytes(
        serialization.Encoding.DER
    )
    assert chip.verify_pin(CertKind.AUTH, PIN) == 3
    signature = chip.sign(CertKind.AUTH, b"kofu")
    key = auth_cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, b"kofu", padding.PKCS1v15(), hashes.SHA256())
    assert chip.verify_pin(CertKind.SIGN, PASSWORD) == 5

    # The authority knows both certificates as this resident's card, and says they are good.
    for serial, kind in ((record.auth_serial, "auth"), (record.sign_serial, "sign")):
        known = city.cert(serial)
        assert (known.kind, known.status, known.cause) == (kind, "good", None)
        assert (known.resident_code, known.card_id, known.city) == (
            person.resident_code,
            record.card_id,
            "112186",
        )
    assert city.ocsp(auth_pem, CertKind.AUTH) == (ocsp.OCSPCertStatus.GOOD, None)
    assert city.ocsp(sign_pem, CertKind.SIGN) == (ocsp.OCSPCertStatus.GOOD, None)

    # One card at a time: a new application is refused while this one is active.
    with pytest.raises(Conflict):
        city.apply(person.resident_code)


def test_minor_cards_last_to_the_fifth_birthday(city: Desk) -> None:
    day = HANDOVER_DAY
    people = city.residents()
    teen = next(p for p in people if 15 <= p.age_on(day) < 18)
    child = next(p for p in people if 5 <= p.age_on(day) < 15)

    teen_card = city.issue(teen, documents=("passport",))
    assert teen_card.expires_on == nth_birthday_after(teen.birth_date, day, 5)
    assert teen_card.sign_serial is not None
    assert city.status(teen.resident_code)["sign_tries_left"] == 5

    child_card = city.issue(child, documents=("residence_card",), password=PASSWORD)
    assert child_card.expires_on == nth_birthday_after(child.birth_date, day, 5)
    assert child_card.certificates_expire_on == child_card.expires_on
    assert child_card.sign_serial is None  # no signature certificate under 15
    status = city.status(child.resident_code)
    assert (status["state"], status["auth_tries_left"]) == ("active", 3)
    assert (status["sign_tries_left"], status["sign_certificate_pem"]) == (None, None)
    assert pem_serial(status["auth_certificate_pem"]) == child_card.auth_serial
    assert city.cert(child_card.auth_serial).status == "good"
    assert city.issued_count() == 3  # the teen's two and the child's one

    # Renewing the child's certificates, a password given or not, still makes no signature one.
    city.authority.service.clock = at(LATER)
    renewed = desk.renew_certificates(
        uow=city.uow(LATER.date()),
        card_path=city.card_path(child.resident_code),
        documents=["passport"],
        pin="4321",
        password=PASSWORD,
        authority=city.authority,
        master_key=MASTER_KEY,
        clock=at(LATER),
        force=True,
    )
    assert renewed.sign_serial is None and renewed.auth_serial != child_card.auth_serial
    assert city.status(child.resident_code)["sign_certificate_pem"] is None
    assert city.issued_count() == 4


# --- after the handover: events, reports, renewal, PIN reset ------------------------------


def test_register_events_revoke_through_the_outbox(city: Desk, db_rows: Callable[[], Rows]) -> None:
    mover, deceased, leaver = distinct_households(adults(city), 3)
    cards = {p.resident_code: city.issue(p) for p in (mover, deceased, leaver)}
    move, death, leave = (cards[p.resident_code] for p in (mover, deceased, leaver))
    departure = date(2027, 1, 20)
    city.events(
        {
            "kind": "move_within",
            "resident": mover.resident_code,
            "effective": LATER.date().isoformat(),
            "address": {"town": mover.address.town, "block": "99番地9"},
        },
        {
            "kind": "death",
            "resident": deceased.resident_code,
            "effective": LATER.date().isoformat(),
        },
        {
            "kind": "move_out",
            "resident": leaver.resident_code,
            "effective": departure.isoformat(),
            "destination": {"prefecture": "東京都", "city": "豊島区", "town": "南池袋1丁目"},
        },
    )
    assert sorted((m["card_id"], m["cause"], m["effective"]) for m in city.pending()) == sorted(
        [
            (move.card_id, "move", LATER.date().isoformat()),
            (death.card_id, "death", LATER.date().isoformat()),
            (leave.card_id, "move", departure.isoformat()),
        ]
    )
    assert city.record(move.card_id).state is CardState.ACTIVE
    returned = city.record(death.card_id)
    assert (returned.state, returned.state_changed_on) == (CardState.RETURNED, LATER.date())
    # Nothing reaches the authority until the outbox is delivered.
    for record in cards.values():
        assert city.states(record) == (("good", None), ("good", None))

    assert city.deliver() == {"sent": 2, "failed": 0, "waiting": 1}
    assert city.states(move) == (("good", None), ("revoked", "move"))
    assert city.states(death) == (("revoked", "death"), ("revoked", "death"))
    assert city.states(leave) == (("good", None), ("good", None))
    move_sign = city.status(mover.resident_code)["sign_certificate_pem"]
    assert city.ocsp(move_sign, CertKind.SIGN) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.affiliation_changed,
    )
    move_auth = city.status(mover.resident_code)["auth_certificate_pem"]
    assert city.ocsp(move_auth, CertKind.AUTH) == (ocsp.OCSPCertStatus.GOOD, None)

    # Delivering again sends nothing more and changes nothing, here or at the authority.
    before = (db_rows(), [city.states(r) for r in cards.values()])
    assert city.deliver(LATER + timedelta(hours=1)) == {"sent": 0, "failed": 0, "waiting": 1}
    assert city.authority.revoke_card(death.card_id, "death") == []  # a message sent twice
    assert (db_rows(), [city.states(r) for r in cards.values()]) == before

    # The planned move-out waits for its day.
    assert city.deliver(datetime(2027, 1, 19, 23, 0, tzinfo=JST))["waiting"] == 1
    assert city.states(leave) == (("good", None), ("good", None))
    assert city.deliver(datetime(2027, 1, 20, 9, 0, tzinfo=JST)) == {
        "sent": 1,
        "failed": 0,
        "waiting": 0,
    }
    assert city.states(leave) == (("good", None), ("revoked", "move"))
    assert city.pending() == []
    assert all(row["delivered_at"] is not None for row in db_rows()["outbox"])
    assert city.deliver(datetime(2027, 1, 21, 9, 0, tzinfo=JST)) == {
        "sent": 0,
        "failed": 0,
        "waiting": 0,
    }


def test_a_lost_card_is_suspended_revoked_and_found(
    city: Desk, db_rows: Callable[[], Rows]
) -> None:
    person = adults(city)[0]
    record = city.issue(person)
    path = city.card_path(person.resident_code)

    lost = desk.report_lost(uow=city.uow(LATER.date()), card_id=record.card_id, clock=at(LATER))
    assert (lost.state, lost.state_changed_on) == (CardState.SUSPENDED, LATER.date())
    assert city.record(record.card_id) == lost
    assert [(m["card_id"], m["cause"]) for m in city.pending()] == [(record.card_id, "loss")]

    before, file_before = db_rows(), path.read_bytes()
    with pytest.raises(Conflict):
        desk.report_lost(uow=city.uow(LATER.date()), card_id=record.card_id, clock=at(LATER))
    with pytest.raises(NotFound):
        desk.report_lost(uow=city.uow(), card_id="112186-20261224-00000000", clock=at(LATER))
    with pytest.raises(Refused) as inactive:
        desk.renew_certificates(
            uow=city.uow(LATER.date()),
            card_path=path,
            documents=["driving_licence"],
            pin="5678",
            password="NEW123",
            authority=city.authority,
            master_key=MASTER_KEY,
            clock=at(LATER),
            force=True,
        )
    assert inactive.value.reason == "card_not_active"
    assert (db_rows(), path.read_bytes()) == (before, file_before)

    assert city.deliver() == {"sent": 1, "failed": 0, "waiting": 0}
    assert city.states(record) == (("revoked", "loss"), ("revoked", "loss"))
    status = city.status(person.resident_code)
    assert city.ocsp(status["auth_certificate_pem"], CertKind.AUTH) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.key_compromise,
    )

    found = desk.report_found(uow=city.uow(LATER.date()), card_id=record.card_id, clock=at(LATER))
    assert found.state is CardState.ACTIVE
    assert city.record(record.card_id).state is CardState.ACTIVE
    with pytest.raises(Conflict):
        desk.report_found(uow=city.uow(LATER.date()), card_id=record.card_id, clock=at(LATER))
    # Found again, the card keeps its revoked certificates until they are renewed.
    assert city.states(record) == (("revoked", "loss"), ("revoked", "loss"))

    renewed = desk.renew_certificates(
        uow=city.uow(LATER.date()),
        card_path=path,
        documents=TWO_B,
        pin="5678",
        password="NEW123",
        authority=city.authority,
        master_key=MASTER_KEY,
        clock=at(LATER),
        force=True,
    )
    assert renewed.auth_serial != record.auth_serial
    assert renewed.sign_serial not in (None, record.sign_serial)
    assert city.states(renewed) == (("good", None), ("good", None))
    assert city.states(record) == (("revoked", "loss"), ("revoked", "loss"))
    status = city.status(person.resident_code)
    assert pem_serial(status["auth_certificate_pem"]) == renewed.auth_serial
    assert city.chip(person.resident_code).verify_pin(CertKind.AUTH, "5678") == 3


def test_renewal_opens_three_months_before_expiry(city: Desk, db_rows: Callable[[], Rows]) -> None:
    person = adults(city)[1]
    first = city.issue(person)
    path = city.card_path(person.resident_code)

    def renew(instant: datetime, *, force: bool = False) -> CardRecord:
        city.authority.service.clock = at(instant)
        return desk.renew_certificates(
            uow=city.uow(instant.date()),
            card_path=path,
            documents=["driving_licence"],
            pin=PIN,
            password=PASSWORD,
            authority=city.authority,
            master_key=MASTER_KEY,
            clock=at(instant),
            force=force,
        )

    opens = renewal_opens(first.certificates_expire_on)
    assert 89 <= (first.certificates_expire_on - opens).days <= 92
    before, file_before = db_rows(), path.read_bytes()
    for instant in (LATER, datetime.combine(opens - timedelta(days=1), HANDOVER.timetz())):
        with pytest.raises(Refused) as closed:
            renew(instant)
        assert closed.value.reason == "renewal_not_open"
    assert (db_rows(), path.read_bytes()) == (before, file_before)

    forced = renew(LATER, force=True)
    assert {forced.auth_serial, forced.sign_serial}.isdisjoint(
        {first.auth_serial, first.sign_serial}
    )
    assert forced.certificates_expire_on == nth_birthday_after(person.birth_date, LATER.date(), 5)
    assert city.states(first) == (("revoked", "renewal"), ("revoked", "renewal"))
    assert city.states(forced) == (("good", None), ("good", None))
    old_sign = x509.load_der_x509_certificate(city.cert(first.sign_serial).der)
    old_sign_pem = old_sign.public_bytes(serialization.Encoding.PEM).decode()
    assert city.ocsp(old_sign_pem, CertKind.SIGN) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.superseded,
    )
    with city.uow() as uow:
        assert uow.cards.card_by_auth_serial(first.auth_serial) is None
        assert uow.cards.card_by_auth_serial(forced.auth_serial) == forced

    window = datetime.combine(opens, HANDOVER.timetz())
    renewed = renew(window)
    assert renewed.certificates_expire_on > forced.certificates_expire_on
    assert renewed.certificates_expire_on <= renewed.expires_on == first.expires_on
    assert city.states(forced) == (("revoked", "renewal"), ("revoked", "renewal"))
    assert city.states(renewed) == (("good", None), ("good", None))
    status = city.status(person.resident_code)
    assert (
        pem_serial(status["auth_certificate_pem"]),
        pem_serial(status["sign_certificate_pem"]),
    ) == (
        renewed.auth_serial,
        renewed.sign_serial,
    )
    assert city.record(first.card_id) == renewed


def test_a_locked_pin_is_reset_at_the_counter(city: Desk, db_rows: Callable[[], Rows]) -> None:
    person = adults(city)[2]
    record = city.issue(person)
    path = city.card_path(person.resident_code)

    element = load_card(path, MASTER_KEY)
    chip = JpkiCard(element)
    for wrong, left in (("0000", 2), ("1111", 1)):
        with pytest.raises(PinError) as tried:
            chip.verify_pin(CertKind.AUTH, wrong)
        assert (tried.value.reason, tried.value.tries_left) == ("wrong_pin", left)
    with pytest.raises(PinError) as locked:
        chip.verify_pin(CertKind.AUTH, "2222")
    assert locked.value.reason == "pin_locked"
    with pytest.raises(PinError) as still:
        chip.verify_pin(CertKind.AUTH, PIN)  # even the right PIN, once locked
    assert still.value.reason == "pin_locked"
    for wrong in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        with pytest.raises(PinError):
            chip.verify_pin(CertKind.SIGN, wrong)
    save_card(element, path, MASTER_KEY)  # the holder carries the locked card back
    status = city.status(person.resident_code)
    assert (status["auth_tries_left"], status["sign_tries_left"]) == (0, 0)

    def reset(kind: str, new: str, documents: Sequence[str] = ("driving_licence",)) -> CardRecord:
        return desk.reset_pin(
            uow=city.uow(LATER.date()),
            card_path=path,
            documents=documents,
            kind=kind,
            new_value=new,
            master_key=MASTER_KEY,
        )

    before, file_before = db_rows(), path.read_bytes()
    for kind, new, documents, error in (
        ("auth", "567", ("driving_licence",), InvalidInput),
        ("sign", "new123", ("driving_licence",), InvalidInput),
        ("both", "5678", ("driving_licence",), InvalidInput),
        ("auth", "5678", ("health_insurance",), Refused),
    ):
        with pytest.raises(error):
            reset(kind, new, documents)
    assert (db_rows(), path.read_bytes()) == (before, file_before)

    assert reset("auth", "5678") == record
    assert reset("sign", "NEWPASS9", TWO_B) == record
    assert db_rows() == before  # a reset changes the card, not the city's records
    status = city.status(person.resident_code)
    assert (status["auth_tries_left"], status["sign_tries_left"]) == (3, 5)
    chip = city.chip(person.resident_code)
    assert chip.verify_pin(CertKind.AUTH, "5678") == 3
    assert chip.verify_pin(CertKind.SIGN, "NEWPASS9") == 5
    with pytest.raises(PinError) as old:
        chip.verify_pin(CertKind.AUTH, PIN)
    assert old.value.reason == "wrong_pin"

    desk.report_lost(uow=city.uow(LATER.date()), card_id=record.card_id, clock=at(LATER))
    with pytest.raises(Refused) as suspended:
        reset("auth", "9999")
    assert suspended.value.reason == "card_not_active"


# --- what the evaluation sheets count -----------------------------------------------------


def test_slots_bookings_and_ended_cards_are_logged_with_the_work(city: Desk) -> None:
    """交付枠 and bookings in the slot's fiscal year (OPT-14); cards ended here leave OPT-08."""
    slot = city.slot(capacity=2)
    desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=5)
    desk.set_capacity(uow=city.uow(), slot_id=slot.slot_id, capacity=4)
    kept, deceased = distinct_households(adults(city), 2)
    applications = [city.apply(p.resident_code) for p in (kept, deceased)]
    city.notify()
    for application in applications:
        city.book(application.application_id, slot.slot_id)
    early = city.apply(city.residents()[-1].resident_code)
    with pytest.raises(Refused) as refused:  # a refused booking logs nothing
        city.book(early.application_id, slot.slot_id)
    assert refused.value.reason == "card_not_arrived"
    for application, person in zip(applications, (kept, deceased), strict=True):
        city.hand_over(application.application_id, person.resident_code)
    reissue = city.apply(kept.resident_code, reason="reissue")  # the first card is abolished
    city.notify()
    city.book(reissue.application_id, slot.slot_id)
    city.hand_over(reissue.application_id, kept.resident_code)
    die(city, deceased.resident_code, LATER)

    with city.engine.connect() as conn:
        log = t.activity_log
        rows = conn.execute(
            select(log.c.kind, log.c.role, log.c.cause, log.c.count, log.c.day)
            .where(log.c.kind.in_(["card.issuance_slot_defined", "card.issuance_booked"]))
            .order_by(log.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("card.issuance_slot_defined", "defined", "", 2, SLOT_AT.date()),
        ("card.issuance_slot_defined", "increase", "", 3, SLOT_AT.date()),
        ("card.issuance_slot_defined", "decrease", "", 1, SLOT_AT.date()),
    ] + [("card.issuance_booked", "", "", 1, SLOT_AT.date())] * 3
    p = Programme(
        city="112186", programme="16231", template="fukaya", name="x", register_since=TODAY
    )
    valuer = Valuer(StoreFacts(city.engine), p)
    fill = valuer.value("OPT-14", 2026)
    assert (fill.value, fill.drill["booked"], fill.drill["capacity"]) == (Decimal("75.0"), 3, 4)

    held = valuer.value("OPT-08", 2026)
    march = date(2027, 3, 31)
    population = sum(
        1 for r in city.residents(march) if r.is_resident and r.became_resident_on <= march
    )
    assert held.drill["held"] == 1 and held.drill["population"] == population  # 3 made, 2 ended
    assert held.value == (Decimal(100) / population).quantize(Decimal("0.1"), ROUND_HALF_UP)
    with city.engine.connect() as conn:
        ended = conn.execute(
            select(t.activity_log.c.cause, t.activity_log.c.day).where(
                t.activity_log.c.kind == "card.abolished"
            )
        ).all()
    assert sorted(tuple(r) for r in ended) == [
        ("reissue", HANDOVER_DAY),
        ("returned", LATER.date()),
    ]
