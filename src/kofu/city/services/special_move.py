"""Special move-out and move-in (転出届・転入届の特例) and carrying the card over (継続利用).

The old city records the household's planned move-out and keeps the
転出証明書情報 for the new city (no paper certificate).  At the new city the
resident shows the card and types its PIN, which the card checks; the new
city learns from the authority whose card it is, from juki which city keeps
the record, and from that city the move-out data (which that city gives to
the destination only).  It registers the household from it, codes and
numbers kept, in one transaction with the record that the data was used and
the 転入通知 to the old city (outbox), delivered afterwards at least once;
the old city closes the data on it, harmlessly again for a resent notice.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard
from kofu.card.storage import load_card, save_card
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.model import Address, Resident
from kofu.city.domain.special_move import (
    check_card_for_move,
    check_continuation,
    check_move_in_dates,
    move_abroad,
    move_in_done,
)
from kofu.city.services.activity import record_activity
from kofu.city.services.events import apply_within
from kofu.city.services.seeding import city_profile, load_towns
from kofu.contracts.citylink import (
    CitylinkAddress,
    MoveInNotice,
    MoveInReceipt,
    MoveOutData,
    MovingCard,
    MovingPerson,
)
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.core.certkinds import CertKind
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, KofuError, NotFound, Refused
from kofu.core.identifiers import LocalGovernmentCode, ResidentCode

__all__ = [
    "SignedMoveOut",
    "close_move_out",
    "continue_card",
    "deliver_notices",
    "move_out_data",
    "sign_move_out",
    "special_move_in",
    "special_move_out",
]

ABROAD = ("abroad", "国外")
SKEW = timedelta(minutes=5)  # two services' clocks may differ this much (as the center allows)


class Network(Protocol):
    """What the special moves need of the network (kofu.city.adapters.citylink.CityLink)."""

    def whereabouts(self, resident_code: str) -> IdentityReport: ...

    def certificate_status(self, serial: str) -> CertificateStatus: ...

    def sign_ca(self) -> x509.Certificate: ...

    def ocsp_sign(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> str: ...

    def move_out_data(self, from_city: str, resident_code: str) -> MoveOutData: ...

    def notify_move_in(self, from_city: str, notice: MoveInNotice) -> MoveInReceipt: ...


# --- online: the request signed with the card's signature certificate ------------------


@dataclass(frozen=True)
class SignedMoveOut:
    """The move-out request as the resident signed it (引越しワンストップ)."""

    payload: bytes  # the request, canonical JSON
    signature: bytes
    certificate: bytes  # the signature certificate (署名用電子証明書), DER


def _payload(resident: str, to_city: str, planned: date, members: list[str]) -> bytes:
    body = {"resident": resident, "to": to_city, "planned": planned.isoformat(), "members": members}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_move_out(
    *,
    card_path: Path,
    password: str,
    master_key: bytes,
    ledger: CardLedger | None,
    resident: str,
    to_city: str,
    planned: date,
    members: list[str],
) -> SignedMoveOut:
    """The resident's side: the card checks the password and signs the request."""
    element = load_card(card_path, master_key, ledger)
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.SIGN, password)
    payload = _payload(resident, to_city, planned, members)
    signature = card.sign(CertKind.SIGN, payload)
    certificate = card.read_certificate(CertKind.SIGN)
    save_card(element, card_path, master_key, ledger)
    return SignedMoveOut(payload, signature, certificate)


def _refuse_signature(why: str) -> Refused:
    return Refused(
        "signature_invalid",
        f"the online move-out is not signed by a valid signature certificate: {why}",
        message_ja="電子署名を確認できないため、オンラインの転出届を受け付けられません。",
    )


def _verify_online(
    network: Network, signed: SignedMoveOut, expected: bytes, resident: str, now: datetime
) -> None:
    """Chain, validity, OCSP, the signature over this request, and whose certificate it is."""
    if signed.payload != expected:
        raise _refuse_signature("the signed request is not this request")
    try:
        cert = x509.load_der_x509_certificate(signed.certificate)
    except ValueError as exc:
        raise _refuse_signature("not an X.509 certificate") from exc
    issuer = network.sign_ca()
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _refuse_signature("not issued by the JPKI signature CA") from exc
    if not cert.not_valid_before_utc - SKEW <= now <= cert.not_valid_after_utc + SKEW:
        raise _refuse_signature("outside its validity")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse_signature("not an RSA key")
    try:
        key.verify(signed.signature, signed.payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise _refuse_signature("the signature does not verify") from exc
    status = network.ocsp_sign(cert, issuer, now)
    if status != "good":
        raise _refuse_signature(f"OCSP says {status}")
    owner = network.certificate_status(f"{cert.serial_number:x}")
    if owner.resident_code != resident:
        raise _refuse_signature("the certificate is another person's")


# --- the old city: 転出届の特例 -------------------------------------------------------------


def _destination(to_city: str, town: str | None, block: str | None) -> CitylinkAddress:
    profile = city_profile(to_city)
    postal = None
    if town:
        found = next((t for t in load_towns(to_city) if t.name == town), None)
        if found is None:
            raise InvalidInput(f"{town!r} is not a town of {profile.name}", field="town")
        postal = found.postal_code
    return CitylinkAddress(
        postal_code=postal,
        prefecture=profile.prefecture,
        city=profile.name,
        town=town or "",
        block=block or "",
    )


def _address(a: Address) -> CitylinkAddress:
    return CitylinkAddress.model_validate(a.model_dump())


def _moving_card(uow: CityUnitOfWork, code: str, today: date) -> MovingCard | None:
    """The member's newest card; one not carried over after the last move ends here."""
    cards = sorted(uow.cards.cards_of(code), key=lambda c: c.issued_on)
    if not cards:
        return None
    card = cards[-1]
    if card.state is CardState.ACTIVE and card.moved_in_on and card.continued_on is None:
        card = card.changed_to(CardState.ABOLISHED, today)  # moved again before 継続利用
        uow.cards.save_card(card)
    return MovingCard(
        card_id=card.card_id,
        auth_serial=card.auth_serial.lower(),
        state=card.state.value,
        expires_on=card.expires_on,
        certificates_expire_on=card.certificates_expire_on,
        issuer_secret=card.issuer_secret,
        moved_in_on=card.moved_in_on,
        continued_on=card.continued_on,
    )


def _moving_person(p: Resident, card: MovingCard | None, relationship: str) -> MovingPerson:
    if p.foreign is not None:
        raise Refused(
            "foreign_resident",
            "kofu's special move carries no residence-card items; file at the counter",
            message_ja="外国人住民の方は窓口で転出届をしてください。",
        )
    return MovingPerson(
        resident_code=p.resident_code,
        individual_number=p.individual_number,
        name=p.name,
        kana=p.kana,
        birth_date=p.birth_date,
        sex=p.sex.value,
        relationship=relationship,
        domicile=p.domicile,
        domicile_head=p.domicile_head,
        card=card,
    )


def _movers(uow: CityUnitOfWork, resident: str, household: list[str]) -> list[Resident]:
    person = uow.registers.resident(resident)
    if person is None or not person.is_resident:
        raise NotFound(f"no resident with code {resident}", field="resident")
    if person.planned_move_out is not None:
        raise Refused(
            "move_out_pending",
            "a move-out has already been notified for this person",
            message_ja="すでに転出の届出がされています。",
        )
    members = {m.resident_code: m for m in uow.registers.household(person.household_id)}
    codes = list(dict.fromkeys(household or [resident]))
    missing = [c for c in codes if c not in members]
    if missing:
        raise InvalidInput(
            f"{', '.join(missing)} is not a member of the same household", field="household"
        )
    chosen = [members[c] for c in codes]
    return sorted(chosen, key=lambda m: (m.relationship != "世帯主", m.birth_date))


def special_move_out(
    *,
    uow: CityUnitOfWork,
    code: str,
    clock: Clock,
    resident: str,
    to_city: str,
    planned: date,
    household: list[str] | None = None,
    channel: str = "counter",
    town: str | None = None,
    block: str | None = None,
    network: Network | None = None,
    signed: SignedMoveOut | None = None,
) -> MoveOutData:
    """Record the household's planned move-out and keep its 転出証明書情報 for the new city."""
    if to_city.strip().lower() in ABROAD:
        raise move_abroad()
    to_city = str(LocalGovernmentCode(to_city))
    ResidentCode(resident)
    if to_city == code:
        raise InvalidInput("a move within the city is a 転居, not a move-out", field="to")
    if channel not in ("counter", "post", "online"):
        raise InvalidInput("--by is counter, post or online", field="by")
    today, now = clock.today(), clock.now()
    if planned < today - timedelta(days=14):
        raise InvalidInput(
            "a move-out is notified at most 14 days after moving out", field="planned"
        )
    codes = list(dict.fromkeys(household or [resident]))
    if channel == "online":
        if signed is None or network is None:
            raise InvalidInput("an online move-out is signed with the card", field="card")
        _verify_online(network, signed, _payload(resident, to_city, planned, codes), resident, now)
    destination = _destination(to_city, town, block)
    move_out_id = f"mo-{uuid.uuid4().hex}"
    with uow:
        uow.registers.today = today
        movers = _movers(uow, resident, codes)
        head_moves = movers[0].relationship == "世帯主"
        cards = {m.resident_code: _moving_card(uow, m.resident_code, today) for m in movers}
        usable = [c for c in cards.values() if c is not None]
        for card in usable:
            check_card_for_move(
                state=card.state,
                expires_on=card.expires_on,
                certificates_expire_on=card.certificates_expire_on,
                moved_in_on=card.moved_in_on,
                continued_on=card.continued_on,
                today=today,
            )
        if not usable:
            raise Refused(
                "no_card",
                "nobody in the moving household holds a My Number card",
                message_ja="転出する世帯にマイナンバーカードをお持ちの方がいないため、"
                "特例による転出はできません。",
            )
        data = MoveOutData(
            move_out_id=move_out_id,
            from_city=code,
            to_city=to_city,
            state="planned",
            notified_on=today,
            planned_on=planned,
            channel=channel,
            old_address=_address(movers[0].address),
            destination=destination,
            household_head=movers[0].household_head_name if head_moves else movers[0].name,
            members=tuple(
                _moving_person(
                    m,
                    cards[m.resident_code],
                    m.relationship if head_moves or i else "世帯主",
                )
                for i, m in enumerate(movers)
            ),
        )
        event = {
            "kind": "special_move_out",
            "effective": planned.isoformat(),
            "notified": today.isoformat() if today <= planned else planned.isoformat(),
            "members": [m.resident_code for m in movers],
            "destination": destination.model_dump(exclude={"v", "building"}),
            "to_city": to_city,
            "move_out_id": move_out_id,
        }
        apply_within(uow=uow, events=[event], clock=clock)
        uow.citylink.keep_move_out(
            move_out_id, resident, to_city, data.model_dump(mode="json"), now
        )
        record_activity(  # 特例転出処理, counted by the evaluation sheets (OPT-04)
            uow, ActivityKind.SPECIAL_MOVEOUT, now, ref=f"moveout:{move_out_id}", channel=channel
        )
        uow.commit()
    return data


def move_out_data(
    *, uow: CityUnitOfWork, resident_code: str, ask: Callable[[str], None]
) -> MoveOutData:
    """The data for the destination city only (``ask`` refuses any other caller).

    The cards' states are read now, so a card reported lost since the
    move-out is seen as suspended by the new city.
    """
    ResidentCode(resident_code)
    with uow:
        kept = uow.citylink.move_out_of(resident_code)
        if kept is None:
            raise NotFound(
                f"no special move-out data for resident {resident_code}", field="resident_code"
            )
        ask(kept["to_city"])
        data = MoveOutData.model_validate(kept)
        members = []
        for m in data.members:
            current = uow.cards.card(m.card.card_id) if m.card else None
            if m.card is not None and current is not None:
                m = m.model_copy(
                    update={"card": m.card.model_copy(update={"state": current.state.value})}
                )
            members.append(m)
    return data.model_copy(update={"members": tuple(members)})


def close_move_out(*, uow: CityUnitOfWork, notice: MoveInNotice, clock: Clock) -> MoveInReceipt:
    """転入通知 from the destination named in the data; the same notice again changes nothing."""
    now = clock.now()
    with uow:
        found = uow.citylink.move_out(notice.move_out_id)
        if found is None:
            raise NotFound(f"no move-out data {notice.move_out_id}", field="move_out_id")
        if found["to_city"] != notice.to_city:
            raise Refused(
                "caller_not_allowed",
                f"move-out {notice.move_out_id} is to another city than {notice.to_city}",
                message_ja="転出先の市区町村からの通知ではありません。",
            )
        first = uow.citylink.close_move_out(notice.move_out_id, now)
        closed = uow.citylink.move_out(notice.move_out_id) or {}
        uow.commit()
    return MoveInReceipt(
        move_out_id=notice.move_out_id,
        state="moved_in",
        closed_at=closed.get("closed_at") or now,
        first=first,
    )


# --- the new city: 転入届の特例 --------------------------------------------------------------


@dataclass(frozen=True)
class CardHolder:
    """Whose card was shown: its serial, and the resident code the authority knows it by."""

    card_id: str
    auth_serial: str
    resident_code: str


def _read_card(
    network: Network,
    card_path: Path,
    pin: str,
    master_key: bytes,
    ledger: CardLedger | None,
    today: date,
) -> CardHolder:
    """The card checks the 4-digit PIN and proves it holds the authentication key."""
    element = load_card(card_path, master_key, ledger)
    card = JpkiCard(element)
    card.select_jpki()
    try:
        card.verify_pin(CertKind.AUTH, pin)
    finally:
        save_card(element, card_path, master_key, ledger)  # a wrong try is spent on the card
    cert = x509.load_der_x509_certificate(card.read_certificate(CertKind.AUTH))
    challenge = secrets.token_bytes(32)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            card.sign(CertKind.AUTH, challenge), challenge, padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature as exc:
        raise Refused("card_invalid", "the card does not hold its certificate's key") from exc
    if element.expires_on is not None and element.expires_on < today:
        raise Refused(
            "card_expired",
            "the card has expired",
            message_ja="カードの有効期限が切れているため、特例による転入はできません。",
        )
    serial = f"{cert.serial_number:x}"
    status = network.certificate_status(serial)
    if status.status == "revoked" or status.resident_code is None:
        raise Refused(
            "card_revoked",
            "the card's certificate is revoked (reported lost, returned or abolished)",
            message_ja="カードの電子証明書が失効しているため（紛失・返納・廃止）、"
            "特例による転入はできません。",
        )
    return CardHolder(element.card_id, serial, status.resident_code)


def _already_resident() -> Refused:
    return Refused(
        "already_resident",
        "the card holder is already registered in this city",
        message_ja="すでにこの市区町村に住民登録があります。",
    )


def _received(network: Network, code: str, holder: CardHolder) -> MoveOutData:
    """The move-out data from the city keeping the holder's record (juki says which)."""
    held = network.whereabouts(holder.resident_code)
    if held.city == code:
        raise _already_resident()
    try:
        data = network.move_out_data(held.city, holder.resident_code)
    except NotFound as exc:
        raise Refused(
            "no_move_out_data",
            "the old city has no special move-out for this person",
            message_ja="特例による転出の届出がありません。前住所地で転出届をしてください。",
        ) from exc
    except Refused as exc:
        if exc.reason != "caller_not_allowed":
            raise
        raise Refused(
            "move_out_to_other_city",
            "the special move-out names another city as the destination",
            message_ja="転出先が別の市区町村になっているため、転入届を受け付けられません。",
        ) from exc
    if data.to_city != code or data.from_city != held.city:
        raise Refused("move_out_to_other_city", "the move-out data names another city")
    return data


def _card_of(data: MoveOutData, holder: CardHolder) -> MovingCard:
    for member in data.members:
        if member.card is not None and member.card.auth_serial == holder.auth_serial.lower():
            return member.card
    raise Refused(
        "card_unknown",
        "the card shown belongs to nobody in the moving household",
        message_ja="提示されたカードは転出した世帯の方のものではありません。",
    )


def _move_in_event(
    data: MoveOutData, moved: date, today: date, town: str | None, block: str | None
) -> dict[str, Any]:
    town = town or data.destination.town
    block = block or data.destination.block
    if not town:
        raise InvalidInput("the new address's town is needed (--town)", field="town")
    old = data.old_address
    return {
        "kind": "special_move_in",
        "effective": moved.isoformat(),
        "notified": today.isoformat(),
        "from_city": data.from_city,
        "move_out_id": data.move_out_id,
        "address": {"town": town, "block": block or "", "building": ""},
        "previous_address": {
            "prefecture": old.prefecture,
            "city": old.city,
            "town": old.town,
            "block": old.block,
            "postal_code": old.postal_code,
        },
        "members": [
            {
                "resident": m.resident_code,
                "individual_number": m.individual_number,
                "name": m.name,
                "kana": m.kana,
                "birth_date": m.birth_date.isoformat(),
                "sex": m.sex,
                "relationship": m.relationship,
                "domicile": m.domicile,
                "domicile_head": m.domicile_head,
            }
            for m in data.members
        ],
    }


@dataclass(frozen=True)
class MovedIn:
    """What the special move-in did."""

    move_out_id: str
    from_city: str
    residents: tuple[str, ...]
    household_id: str
    address: str
    notice: str  # delivered or pending (the old city hears of it at the next delivery)


def special_move_in(
    *,
    uow: CityUnitOfWork,
    code: str,
    clock: Clock,
    network: Network,
    card_path: Path,
    pin: str,
    moved: date,
    master_key: bytes,
    ledger: CardLedger | None = None,
    town: str | None = None,
    block: str | None = None,
) -> MovedIn:
    """Register the household from the received data: all of it, once, or nothing."""
    today, now = clock.today(), clock.now()
    holder = _read_card(network, card_path, pin, master_key, ledger, today)
    with uow:  # registered here already (juki may not know it yet): never twice
        uow.registers.today = today
        here = uow.registers.resident(holder.resident_code)
    if here is not None and here.is_resident:
        raise _already_resident()
    data = _received(network, code, holder)
    if data.state != "planned":
        raise move_in_done()
    check_move_in_dates(moved=moved, planned=data.planned_on, today=today)
    card = _card_of(data, holder)
    check_card_for_move(
        state=card.state,
        expires_on=card.expires_on,
        certificates_expire_on=card.certificates_expire_on,
        moved_in_on=card.moved_in_on,
        continued_on=card.continued_on,
        today=today,
    )
    event = _move_in_event(data, moved, today, town, block)
    residents = [m.resident_code for m in data.members]
    with uow:
        if uow.citylink.move_in(data.move_out_id) is not None:
            raise move_in_done()
        apply_within(uow=uow, events=[event], clock=clock)
        for member in data.members:
            if member.card is not None and member.card.state == "active":
                uow.cards.save_card(_card_record(member.resident_code, member.card, today))
        uow.citylink.keep_move_in(data.move_out_id, data.from_city, moved, residents, now)
        notice = MoveInNotice(
            move_out_id=data.move_out_id,
            to_city=code,
            moved_on=moved,
            notified_on=today,
            residents=tuple(residents),
        )
        uow.outbox.add(
            target=f"city-{data.from_city}",
            kind="move_in_notice",
            payload=notice.model_dump(mode="json"),
            at=now,
        )
        person = uow.registers.resident(residents[0])
        assert person is not None
        record_activity(  # 特例転入処理 (OPT-05), once per move-out's data
            uow, ActivityKind.SPECIAL_MOVEIN, now, ref=f"movein:{data.move_out_id}"
        )
        uow.commit()
    sent = deliver_notices(uow=uow, network=network, clock=clock, targets=[data.from_city])
    return MovedIn(
        move_out_id=data.move_out_id,
        from_city=data.from_city,
        residents=tuple(residents),
        household_id=person.household_id,
        address=person.address.text,
        notice="delivered" if sent["sent"] else "pending",
    )


def _card_record(resident: str, card: MovingCard, today: date) -> CardRecord:
    """The card as this city keeps it: active, waiting to be carried over (継続利用)."""
    return CardRecord(
        card_id=card.card_id,
        resident_code=resident,
        application_id="",
        issued_on=today,
        expires_on=card.expires_on,
        state=CardState.ACTIVE,
        auth_serial=card.auth_serial,
        sign_serial=None,  # revoked by the move; a new one may be issued
        certificates_expire_on=card.certificates_expire_on,
        issuer_secret=card.issuer_secret,
        moved_in_on=today,
    )


def deliver_notices(
    *, uow: CityUnitOfWork, network: Network, clock: Clock, targets: list[str] | None = None
) -> dict[str, int]:
    """Send pending 転入通知 to the old cities; a city down keeps its notice for the next turn."""
    sent = failed = 0
    with uow:
        cities = targets if targets is not None else uow.outbox.pending_targets("city-")
        for city in cities:
            for message in uow.outbox.pending(f"city-{city}"):
                try:
                    network.notify_move_in(city, MoveInNotice.model_validate(message.payload))
                except KofuError as exc:
                    uow.outbox.failed(message.message_id, exc.message)
                    failed += 1
                    continue
                uow.outbox.delivered(message.message_id, clock.now())
                sent += 1
        uow.commit()
    return {"sent": sent, "failed": failed}


# --- 継続利用 ----------------------------------------------------------------------------


def continue_card(
    *,
    uow: CityUnitOfWork,
    clock: Clock,
    card_path: Path,
    pin: str,
    master_key: bytes,
    ledger: CardLedger | None = None,
) -> CardRecord:
    """The new address on the card's record, the PIN entered; within 90 days, once."""
    today = clock.today()
    element = load_card(card_path, master_key, ledger)
    card = JpkiCard(element)
    card.select_jpki()
    try:
        card.verify_pin(CertKind.AUTH, pin)
    finally:
        save_card(element, card_path, master_key, ledger)
    with uow:
        uow.registers.today = today
        record = uow.cards.card(element.card_id)
        if record is None:
            raise Refused(
                "card_unknown",
                "this card is not registered with this city",
                message_ja="このカードは当市で登録されていません。",
            )
        if record.continued_on is not None:
            return record  # carried over already: the same answer again
        try:
            check_continuation(record, today)
        except Refused as refusal:
            if refusal.reason == "continuation_expired":  # the card is invalid from now on
                uow.cards.save_card(record.changed_to(CardState.ABOLISHED, today))
                uow.commit()
            raise
        person = uow.registers.resident(record.resident_code)
        if person is None or not person.is_resident:
            raise NotFound("the card's holder has no record here", field="card")
        record = record.model_copy(
            update={"continued_on": today, "card_address": person.address.text}
        )
        uow.cards.save_card(record)
        uow.commit()
    return record
