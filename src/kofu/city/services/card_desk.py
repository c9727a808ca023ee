"""The card desk's use cases: apply, arrange slots, notify, book, issue, renew, lost, reset PIN.

Every action checks its rule before it changes anything; a refusal names the
reason and leaves the records as they were.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kofu.card.element import SecureElement
from kofu.card.jpki_ap import PIN_RULES
from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard
from kofu.card.storage import certificates_on, load_card, save_card
from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.card_desk import (
    LEAD_TIME,
    ApplicationChannel,
    ApplicationStatus,
    CardApplication,
    CardRecord,
    CardState,
    IdentityDocument,
    IssuanceSlot,
    SlotKind,
    card_validity_end,
    check_identity,
    check_slot,
    renewal_opens,
    validate_capacity,
)
from kofu.city.domain.model import Resident
from kofu.city.domain.ports import CertificateAuthority, CityUnitOfWork
from kofu.city.services.activity import record_activity, record_card_ended
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, Clock
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused
from kofu.core.identifiers import ResidentCode
from kofu.core.text import check_plain

__all__ = [
    "add_slot",
    "apply_for_card",
    "apply_group",
    "book_slot",
    "send_notices",
    "set_capacity",
]


def _resident(uow: CityUnitOfWork, code: str) -> Resident:
    person = uow.registers.resident(ResidentCode(code))
    if person is None:
        raise NotFound(f"no resident with code {code}", field="resident")
    if not person.is_resident:
        raise Refused(
            "not_resident",
            f"{code} is not a resident of this city ({person.removal_reason}); a card is applied "
            "for where one lives",
            message_ja="住民登録がないため申請できません。",
        )
    return person


def _active_card(uow: CityUnitOfWork, code: str) -> CardRecord | None:
    return next((c for c in uow.cards.cards_of(code) if c.state is CardState.ACTIVE), None)


def _new_application(
    uow: CityUnitOfWork,
    person: Resident,
    channel: ApplicationChannel,
    today: date,
    facility: str | None,
    reason: str,
    at: datetime,
) -> CardApplication:
    if any(
        a.status not in (ApplicationStatus.ISSUED, ApplicationStatus.CANCELLED)
        for a in uow.cards.applications_of(person.resident_code)
    ):
        raise Conflict(
            f"{person.resident_code} already has an application in progress", field="resident"
        )
    if reason == "new" and _active_card(uow, person.resident_code) is not None:
        raise Conflict(
            f"{person.resident_code} already holds an active card; renew it or report it lost",
            field="resident",
        )
    number = uow.registers.next_number("card_application")
    application = CardApplication(
        application_id=f"A{today:%Y%m%d}{number:06d}",
        resident_code=person.resident_code,
        channel=channel,
        applied_on=today,
        facility=facility,
        reason=reason,
        arrives_on=today + LEAD_TIME,
    )
    uow.cards.save_application(application)
    record_activity(
        uow,
        ActivityKind.CARD_APPLICATION,
        at,
        ref=f"application:{application.application_id}",
        channel=channel.value,
        detail={"facility": facility} if facility else None,
    )
    return application


def apply_for_card(
    *,
    uow: CityUnitOfWork,
    resident_code: str,
    channel: str,
    clock: Clock,
    facility: str | None = None,
    reason: str = "new",
) -> CardApplication:
    """交付申請: one person, by any channel."""
    try:
        how = ApplicationChannel(channel)
    except ValueError as exc:
        names = ", ".join(c.value for c in ApplicationChannel)
        raise InvalidInput(f"unknown channel {channel!r}; one of {names}", field="channel") from exc
    if how is ApplicationChannel.GROUP_OUTREACH and not facility:
        raise InvalidInput("a group application names its facility", field="facility")
    if reason not in ("new", "reissue"):
        raise InvalidInput("reason is new or reissue", field="reason")
    check_plain(facility=facility)  # kept with the application, printed on its notice
    with uow:
        application = _new_application(
            uow, _resident(uow, resident_code), how, clock.today(), facility, reason, clock.now()
        )
        uow.commit()
    return application


def apply_group(
    *, uow: CityUnitOfWork, resident_codes: Sequence[str], facility: str, clock: Clock
) -> list[CardApplication]:
    """団体出張申請: residents of a care facility apply together; all or none."""
    if not facility.strip():
        raise InvalidInput("a group application names its facility", field="facility")
    if not resident_codes:
        raise InvalidInput("a group application lists at least one resident", field="residents")
    with uow:
        made = [
            _new_application(
                uow,
                _resident(uow, code),
                ApplicationChannel.GROUP_OUTREACH,
                clock.today(),
                facility,
                "new",
                clock.now(),
            )
            for code in resident_codes
        ]
        uow.commit()
    return made


def add_slot(
    *,
    uow: CityUnitOfWork,
    starts_at: datetime,
    minutes: int,
    capacity: int,
    kind: str,
    clock: Clock,
) -> IssuanceSlot:
    """交付枠 for a session: regular, extended weekday hours or a weekend session."""
    try:
        slot_kind = SlotKind(kind)
    except ValueError as exc:
        raise InvalidInput(
            f"unknown slot kind {kind!r}; regular, extended_hours or weekend", field="kind"
        ) from exc
    if not 10 <= minutes <= 480:
        raise InvalidInput("a slot lasts 10 to 480 minutes", field="minutes")
    if starts_at.tzinfo is None or starts_at.utcoffset() is None:
        raise InvalidInput("a slot's start names its time zone", field="starts_at")
    try:
        starts_at = starts_at.astimezone(JST)  # the desk's hours are Japan time
        ends_at = starts_at + timedelta(minutes=minutes)
    except OverflowError as exc:  # past the calendar's last day
        raise InvalidInput("a slot's time is past any calendar", field="starts_at") from exc
    if slot_kind is SlotKind.WEEKEND and starts_at.weekday() < 5:
        raise InvalidInput("a weekend slot starts on Saturday or Sunday", field="starts_at")
    if slot_kind is SlotKind.EXTENDED_HOURS and (starts_at.weekday() >= 5 or starts_at.hour < 17):
        raise InvalidInput("an extended-hours slot is on a weekday from 17:00", field="starts_at")
    if starts_at <= clock.now():
        raise InvalidInput("a slot must start in the future", field="starts_at")
    with uow:
        number = uow.registers.next_number("slot")
        slot = IssuanceSlot(
            slot_id=f"S{starts_at:%Y%m%d%H%M}-{number}",
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=validate_capacity(capacity),
            kind=slot_kind,
        )
        uow.cards.save_slot(slot)
        _log_capacity(uow, slot, "defined", slot.capacity, ref=f"slot:{slot.slot_id}")
        uow.commit()
    return slot


def _log_capacity(
    uow: CityUnitOfWork, slot: IssuanceSlot, role: str, count: int, ref: str | None = None
) -> None:
    """交付枠 capacity (OPT-14), dated at the slot's start so it counts in the slot's year."""
    if count:
        kind = ActivityKind.CARD_SLOT_DEFINED
        record_activity(uow, kind, slot.starts_at, ref=ref, role=role, count=count)


def set_capacity(*, uow: CityUnitOfWork, slot_id: str, capacity: int) -> IssuanceSlot:
    """Staff change a slot's capacity; never below what is already booked."""
    with uow:
        slot = uow.cards.slot(slot_id)
        if slot is None:
            raise NotFound(f"no slot {slot_id}", field="slot")
        if validate_capacity(capacity) < slot.booked:
            raise Conflict(f"{slot.booked} are already booked in {slot_id}", field="capacity")
        before = slot.capacity
        slot = slot.model_copy(update={"capacity": capacity})
        uow.cards.save_slot(slot)
        change = "increase" if capacity > before else "decrease"
        _log_capacity(uow, slot, change, abs(capacity - before))
        uow.commit()
    return slot


def send_notices(*, uow: CityUnitOfWork, clock: Clock) -> list[CardApplication]:
    """交付通知書: for every card that has arrived from J-LIS, notify the applicant."""
    today = clock.today()
    with uow:
        sent = []
        for app in uow.cards.open_applications():
            if app.status is ApplicationStatus.APPLIED and app.arrives_on <= today:
                notified = app.model_copy(
                    update={"status": ApplicationStatus.NOTIFIED, "notice_sent_on": today}
                )
                uow.cards.save_application(notified)
                sent.append(notified)
        uow.commit()
    return sent


def _application(uow: CityUnitOfWork, application_id: str) -> CardApplication:
    app = uow.cards.application(application_id)
    if app is None:
        raise NotFound(f"no application {application_id}", field="application")
    return app


def book_slot(
    *, uow: CityUnitOfWork, application_id: str, slot_id: str, clock: Clock
) -> CardApplication:
    """交付予約: once the notice is out, the resident books a slot that has room."""
    with uow:
        app = _application(uow, application_id)
        if app.status is ApplicationStatus.APPLIED:
            raise Refused(
                "card_not_arrived",
                f"the card is expected from J-LIS on {app.arrives_on.isoformat()}; "
                "book after the notice",
                message_ja="カードがまだ届いていません。交付通知書が届いてから予約してください。",
            )
        if app.status is not ApplicationStatus.NOTIFIED:
            raise Conflict(
                f"application {application_id} is {app.status.value}", field="application"
            )
        slot = uow.cards.slot(slot_id)
        if slot is None:
            raise NotFound(f"no slot {slot_id}", field="slot")
        check_slot(slot, clock.now())
        uow.cards.save_slot(slot.model_copy(update={"booked": slot.booked + 1}))
        booked = app.model_copy(update={"status": ApplicationStatus.BOOKED, "slot_id": slot_id})
        uow.cards.save_application(booked)
        record_activity(  # 交付予約 (OPT-14), in the slot's fiscal year
            uow, ActivityKind.CARD_SLOT_BOOKED, slot.starts_at, ref=f"booking:{application_id}"
        )
        uow.commit()
    return booked


@dataclass(frozen=True)
class Handover:
    """What the desk hands over: the card record and the secret the city keeps for it."""

    card: CardRecord
    application: CardApplication


def prepare_handover(
    uow: CityUnitOfWork, application_id: str, documents: Sequence[str], clock: Clock
) -> tuple[CardApplication, Resident, date]:
    """Checks before the card is personalised: booking, slot day, identity, residence."""
    app = _application(uow, application_id)
    if app.status is not ApplicationStatus.BOOKED:
        raise Conflict(
            f"application {application_id} is {app.status.value}; "
            "the card is handed over at a booked slot",
            field="application",
        )
    check_identity(_documents(documents))
    person = _resident(uow, app.resident_code)
    today = clock.today()
    stay = person.foreign
    stay_until = stay.period_of_stay_until if stay is not None and stay.stay_ends else None
    return app, person, card_validity_end(person.birth_date, today, stay_until)


def new_card_id(city: str, today: date) -> str:
    return f"{city}-{today:%Y%m%d}-{secrets.token_hex(4)}"


def facts_of(person: Resident) -> dict[str, str]:
    """基本4情報 as the signature certificate carries them."""
    return {
        "name": person.name,
        "sex": "1" if person.sex.value == "male" else "2",
        "birth_date": person.birth_date.isoformat(),
        "address": person.address.text,
    }


def issue_certificates(
    authority: CertificateAuthority,
    city: str,
    person: Resident,
    card_id: str,
    card_expiry: date,
    auth_pem: str,
    sign_pem: str | None,
) -> tuple[str, str, str | None, str | None]:
    """Ask the authority to certify the card's keys: (auth pem, serial, sign pem, serial)."""
    issued = authority.issue_pair(
        city=city,
        resident_code=person.resident_code,
        card_id=card_id,
        birth_date=person.birth_date,
        card_expiry=card_expiry,
        facts=facts_of(person) if sign_pem else None,
        auth_public_key_pem=auth_pem,
        sign_public_key_pem=sign_pem,
    )
    return issued.auth_pem, issued.auth_serial, issued.sign_pem, issued.sign_serial


def renewal_allowed(card: CardRecord, today: date) -> None:
    opens = renewal_opens(card.certificates_expire_on)
    if today < opens:
        raise Refused(
            "renewal_not_open",
            f"certificates can be renewed from {opens.isoformat()} "
            "(three months before they expire)",
            message_ja="電子証明書の更新は有効期限の3か月前から可能です。",
        )


# --- the card itself -------------------------------------------------------------------------


def check_secrets(pin: str, password: str | None, documents: Sequence[str] = ()) -> None:
    """PIN formats and identity documents are checked before anything is made or changed."""
    PIN_RULES[CertKind.AUTH].check(pin)
    if password is not None:
        PIN_RULES[CertKind.SIGN].check(password)
    if documents:
        check_identity(_documents(documents))


def _documents(documents: Sequence[str]) -> list[IdentityDocument]:
    try:
        return [IdentityDocument(d) for d in documents]
    except ValueError as exc:
        names = ", ".join(d.value for d in IdentityDocument)
        raise InvalidInput(f"unknown identity document; one of {names}", field="documents") from exc


def personalise(
    *,
    authority: CertificateAuthority,
    city: str,
    person: Resident,
    card_id: str,
    expires_on: date,
    pin: str,
    password: str | None,
    today: date,
) -> tuple[SecureElement, CardRecord]:
    """交付前設定 and handover: keys made on the card, certified, PINs set by the resident.

    The signature certificate is issued from age 15 (children get only the
    authentication certificate) and only when the resident sets a password.
    """
    issuer_secret = secrets.token_bytes(32)
    element = SecureElement.blank(issuer_secret, card_id=card_id, expires_on=expires_on)
    certified = _certify(
        JpkiCard(element),
        issuer_secret,
        authority,
        city,
        person,
        card_id,
        expires_on,
        pin=pin,
        password=password,
        today=today,
    )
    record = CardRecord(
        card_id=card_id,
        resident_code=person.resident_code,
        application_id="",
        issued_on=today,
        expires_on=expires_on,
        issuer_secret=issuer_secret.hex(),
        **certified,
    )
    return element, record


def _certify(
    card: JpkiCard,
    secret: bytes,
    authority: CertificateAuthority,
    city: str,
    person: Resident,
    card_id: str,
    expires_on: date,
    *,
    pin: str,
    password: str | None,
    today: date,
) -> dict[str, Any]:
    """New keys on the card, certified by the authority, written back, PINs set.

    The signature certificate only from age 15 and only with a password.
    Returns the card record's certificate fields.
    """
    card.select_jpki()
    with_sign = password is not None and person.age_on(today) >= 15
    auth_key = card.generate_key(CertKind.AUTH, secret)
    sign_key = card.generate_key(CertKind.SIGN, secret) if with_sign else None
    auth_pem, auth_serial, sign_pem, sign_serial = issue_certificates(
        authority,
        city,
        person,
        card_id,
        expires_on,
        _pem(auth_key),
        _pem(sign_key) if sign_key else None,
    )
    card.write_certificate(CertKind.AUTH, _der(auth_pem), secret)
    card.set_pin(CertKind.AUTH, pin, secret)
    if sign_pem is not None and password is not None:
        card.write_certificate(CertKind.SIGN, _der(sign_pem), secret)
        card.set_pin(CertKind.SIGN, password, secret)
    cert = x509.load_pem_x509_certificate(auth_pem.encode())
    return {
        "auth_serial": auth_serial,
        "sign_serial": sign_serial,
        "certificates_expire_on": cert.not_valid_after_utc.astimezone(JST).date(),
    }


def _pem(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


def hand_over(
    *,
    uow: CityUnitOfWork,
    application_id: str,
    documents: Sequence[str],
    pin: str,
    password: str | None,
    authority: CertificateAuthority,
    card_path: Path,
    master_key: bytes,
    clock: Clock,
    ledger: CardLedger | None = None,
) -> CardRecord:
    """交付: identity checked, card personalised, record kept, card file written for its holder."""
    check_secrets(pin, password, documents)
    if not card_path.parent.is_dir():  # found out before the authority certifies anything
        raise InvalidInput(
            f"no folder {card_path.parent} to write the card file in", field="card_path"
        )
    today = clock.today()
    with uow:
        app, person, expires_on = prepare_handover(uow, application_id, documents, clock)
        card_id = new_card_id(uow.city().code, today)
        element, record = personalise(
            authority=authority,
            city=uow.city().code,
            person=person,
            card_id=card_id,
            expires_on=expires_on,
            pin=pin,
            password=password,
            today=today,
        )
        record = record.model_copy(update={"application_id": app.application_id})
        for old in uow.cards.cards_of(person.resident_code):
            if old.state in (
                CardState.ACTIVE,
                CardState.SUSPENDED,
            ):  # a reissue abolishes the old card
                uow.cards.save_card(old.changed_to(CardState.ABOLISHED, today))
                _queue_revocation(uow, old.card_id, "abolition", clock)
                record_card_ended(uow, old, "reissue", clock.now())
        had_card = bool(uow.cards.cards_of(person.resident_code))
        uow.cards.save_card(record)
        uow.cards.save_application(
            app.model_copy(update={"status": ApplicationStatus.ISSUED, "card_id": card_id})
        )
        _log_handover(uow, record, app.reason, had_card, clock.now())
        save_card(element, card_path, master_key, ledger)
        uow.commit()
    return record


def _log_handover(
    uow: CityUnitOfWork, record: CardRecord, reason: str, had_card: bool, at: datetime
) -> None:
    """card.issued (new / renewal / reissue) and the JPKI certificates the card now carries."""
    kind = "reissue" if reason == "reissue" else ("renewal" if had_card else "new")
    record_activity(uow, ActivityKind.CARD_ISSUED, at, ref=f"card:{record.card_id}", role=kind)
    _log_jpki(uow, record, "new", at)


def _log_jpki(uow: CityUnitOfWork, record: CardRecord, role: str, at: datetime) -> None:
    """jpki.certificate_issued, once per certificate serial, as the card desk learns of it."""
    for doc_type, serial in (("user-auth", record.auth_serial), ("signature", record.sign_serial)):
        if serial:
            kind = ActivityKind.JPKI_ISSUED
            record_activity(uow, kind, at, ref=f"jpki:{serial}", doc_type=doc_type, role=role)


def _queue_revocation(uow: CityUnitOfWork, card_id: str, cause: str, clock: Clock) -> None:
    uow.outbox.add(
        target="jpki",
        kind="revoke_card",
        payload={"card_id": card_id, "cause": cause, "effective": clock.today().isoformat()},
        at=clock.now(),
    )


def _card_record(uow: CityUnitOfWork, card_id: str) -> CardRecord:
    record = uow.cards.card(card_id)
    if record is None:
        raise NotFound(f"card {card_id} was not issued by this city", field="card")
    return record


def report_lost(*, uow: CityUnitOfWork, card_id: str, clock: Clock) -> CardRecord:
    """紛失届: the card is suspended and both certificates are revoked (via the outbox)."""
    with uow:
        record = _card_record(uow, card_id)
        if record.state is not CardState.ACTIVE:
            raise Conflict(f"card {card_id} is {record.state.value}", field="card")
        record = record.changed_to(CardState.SUSPENDED, clock.today())
        uow.cards.save_card(record)
        _queue_revocation(uow, card_id, "loss", clock)
        uow.commit()
    return record


def report_found(*, uow: CityUnitOfWork, card_id: str, clock: Clock) -> CardRecord:
    """発見届: the suspension is lifted; the revoked certificates must be issued anew (renew)."""
    with uow:
        record = _card_record(uow, card_id)
        if record.state is not CardState.SUSPENDED:
            raise Conflict(f"card {card_id} is {record.state.value}, not suspended", field="card")
        record = record.changed_to(CardState.ACTIVE, clock.today())
        uow.cards.save_card(record)
        uow.commit()
    return record


def _open_card(
    uow: CityUnitOfWork, card_path: Path, master_key: bytes, ledger: CardLedger | None
) -> tuple[SecureElement, CardRecord]:
    element = load_card(card_path, master_key, ledger)
    record = _card_record(uow, element.card_id)
    return element, record


def renew_certificates(
    *,
    uow: CityUnitOfWork,
    card_path: Path,
    documents: Sequence[str],
    pin: str,
    password: str | None,
    authority: CertificateAuthority,
    master_key: bytes,
    clock: Clock,
    force: bool = False,
    ledger: CardLedger | None = None,
) -> CardRecord:
    """電子証明書の更新: new keys and certificates on the same card, from 3 months before expiry.

    ``force`` renews at any time, for certificates revoked by a move or a found card.
    """
    check_secrets(pin, password, documents)
    check_identity(_documents(documents))
    with uow:
        element, record = _open_card(uow, card_path, master_key, ledger)
        if record.state is not CardState.ACTIVE:
            raise Refused(
                "card_not_active",
                f"card {record.card_id} is {record.state.value}",
                message_ja="カードが有効でないため更新できません。",
            )
        if not force:
            renewal_allowed(record, clock.today())
        person = _resident(uow, record.resident_code)
        certified = _certify(
            JpkiCard(element),
            bytes.fromhex(record.issuer_secret),
            authority,
            uow.city().code,
            person,
            record.card_id,
            record.expires_on,
            pin=pin,
            password=password,
            today=clock.today(),
        )
        record = record.model_copy(update=certified)
        uow.cards.save_card(record)
        _log_jpki(uow, record, "renewal", clock.now())
        save_card(element, card_path, master_key, ledger)
        uow.commit()
    return record


def reset_pin(
    *,
    uow: CityUnitOfWork,
    card_path: Path,
    documents: Sequence[str],
    kind: str,
    new_value: str,
    master_key: bytes,
    ledger: CardLedger | None = None,
) -> CardRecord:
    """暗証番号の初期化: at the counter, with identity checked, a locked PIN gets a new value."""
    which = CertKind(kind) if kind in ("auth", "sign") else None
    if which is None:
        raise InvalidInput("kind is auth (the 4-digit PIN) or sign (the password)", field="kind")
    PIN_RULES[which].check(new_value)
    check_identity(_documents(documents))
    with uow:
        element, record = _open_card(uow, card_path, master_key, ledger)
        if record.state is not CardState.ACTIVE:
            raise Refused(
                "card_not_active",
                f"card {record.card_id} is {record.state.value}",
                message_ja="カードが有効でないため初期化できません。",
            )
        card = JpkiCard(element)
        card.select_jpki()
        card.reset_pin(which, new_value, bytes.fromhex(record.issuer_secret))
        save_card(element, card_path, master_key, ledger)
        uow.commit()
    return record


def card_status(
    card_path: Path, master_key: bytes, ledger: CardLedger | None = None
) -> dict[str, object]:
    """The card as its holder can see it: state, tries left, and both certificates in PEM."""
    element = load_card(card_path, master_key, ledger)
    card = JpkiCard(element)
    card.select_jpki()
    out: dict[str, object] = {
        "card_id": element.card_id,
        "state": element.state,
        "expires_on": element.expires_on.isoformat() if element.expires_on else None,
    }
    certificates = certificates_on(card_path, master_key)
    for kind in (CertKind.AUTH, CertKind.SIGN):
        der = certificates.get(kind, b"")
        try:
            tries: int | None = card.tries_left(kind)
        except KofuError:  # no PIN set (a child's card has no signature password)
            tries = None
        out[f"{kind.value}_tries_left"] = tries
        out[f"{kind.value}_certificate_pem"] = _pem_cert(der) if der else None
    return out


def _pem_cert(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM).decode()
