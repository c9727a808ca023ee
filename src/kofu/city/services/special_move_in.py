"""The special move-in (転入届の特例) at the new city, and its 転入通知 to the old one.

The card checks the 4-digit PIN and proves it holds its key; the authority
says whose card it is (and whether it was revoked: reported lost, returned,
abolished); juki says which city keeps the record; that city gives the
move-out data to this city only.  The household is registered from it,
codes and numbers kept, in one transaction with the record that the data
was used and the 転入通知 in the outbox, delivered afterwards at least once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard
from kofu.card.storage import load_card, save_card
from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.domain.special_move import (
    check_card_for_move,
    check_move_in_dates,
    move_in_done,
)
from kofu.city.services.activity import record_activity
from kofu.city.services.events import NOTICE_KIND, apply_within
from kofu.city.services.special_move import Network
from kofu.contracts.citylink import (
    MoveInNotice,
    MoveOutData,
    MovingCard,
    OrdinaryMoveInNotice,
)
from kofu.core.certkinds import CertKind
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, KofuError, NotFound, Refused

__all__ = ["MovedIn", "deliver_notices", "special_move_in"]


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
        issued_on=card.issued_on or today,
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
    """Send pending 転入通知 to the old cities; a city down keeps its notice for the next turn.

    Both kinds go: a special move-in's (closing the move-out data) and an
    ordinary move-in's (confirming the move-out, ``kofu.city.services.move_notice``).
    """
    sent = failed = 0
    with uow:
        cities = targets if targets is not None else uow.outbox.pending_targets("city-")
        for city in cities:
            for message in uow.outbox.pending(f"city-{city}"):
                try:
                    if message.kind == NOTICE_KIND:  # an ordinary move's 転入通知
                        network.notify_ordinary_move_in(
                            city, OrdinaryMoveInNotice.model_validate(message.payload)
                        )
                    else:
                        network.notify_move_in(city, MoveInNotice.model_validate(message.payload))
                except KofuError as exc:
                    uow.outbox.failed(message.message_id, exc.message)
                    failed += 1
                    continue
                uow.outbox.delivered(message.message_id, clock.now())
                sent += 1
        uow.commit()
    return {"sent": sent, "failed": failed}
