"""The special move-out (転出届の特例) at the old city, and its 転出証明書情報 for the new one.

The old city records the household's planned move-out (the
``special_move_out`` event) and keeps the move-out data for the destination
city, in one transaction; no paper certificate is printed.  It answers the
data to that city only (``move_out_data``) and closes it on the new city's
転入通知 (``close_move_out``), harmlessly again for a resent notice.  The
move-in side is ``special_move_in``; the online signature ``move_signature``;
継続利用 ``card_continuation``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol

from cryptography import x509

from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.card_desk import CardState
from kofu.city.domain.model import Address, Resident
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.domain.special_move import (
    check_card_for_move,
    move_abroad,
)
from kofu.city.services.activity import record_activity
from kofu.city.services.events import apply_within
from kofu.city.services.move_signature import SignedMoveOut, move_out_payload, verify_online
from kofu.city.services.seeding import city_profile, load_towns
from kofu.contracts.citylink import (
    CitylinkAddress,
    MoveInNotice,
    MoveInReceipt,
    MoveOutData,
    MovingCard,
    MovingPerson,
    OrdinaryMoveInNotice,
    OrdinaryMoveInReceipt,
)
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, NotFound, Refused
from kofu.core.identifiers import LocalGovernmentCode, ResidentCode

__all__ = ["Network", "close_move_out", "move_out_data", "special_move_out"]

ABROAD = ("abroad", "国外")


class Network(Protocol):
    """What the special moves need of the network (kofu.city.adapters.citylink.CityLink)."""

    def whereabouts(self, resident_code: str) -> IdentityReport: ...

    def certificate_status(self, serial: str) -> CertificateStatus: ...

    def sign_ca(self) -> x509.Certificate: ...

    def ocsp_sign(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> str: ...

    def move_out_data(self, from_city: str, resident_code: str) -> MoveOutData: ...

    def notify_move_in(self, from_city: str, notice: MoveInNotice) -> MoveInReceipt: ...

    def notify_ordinary_move_in(
        self, from_city: str, notice: OrdinaryMoveInNotice
    ) -> OrdinaryMoveInReceipt: ...


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
        issued_on=card.issued_on,
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


def _check_cards(cards: list[MovingCard], today: date) -> None:
    """Someone moving holds a valid card; when nobody does, the first card's reason is given."""
    refusals: list[Refused] = []
    for card in cards:
        try:
            check_card_for_move(
                state=card.state,
                expires_on=card.expires_on,
                certificates_expire_on=card.certificates_expire_on,
                moved_in_on=card.moved_in_on,
                continued_on=card.continued_on,
                today=today,
            )
        except Refused as refusal:
            refusals.append(refusal)
            continue
        return
    if refusals:
        raise refusals[0]
    raise Refused(
        "no_card",
        "nobody in the moving household holds a My Number card",
        message_ja="転出する世帯にマイナンバーカードをお持ちの方がいないため、"
        "特例による転出はできません。",
    )


def _move_out_data(
    move_out_id: str,
    code: str,
    to_city: str,
    today: date,
    planned: date,
    channel: str,
    movers: list[Resident],
    cards: dict[str, MovingCard | None],
    destination: CitylinkAddress,
) -> MoveOutData:
    """転出証明書情報; when the head stays, the first mover heads the new household."""
    head_moves = movers[0].relationship == "世帯主"
    return MoveOutData.checked(
        {
            "move_out_id": move_out_id,
            "from_city": code,
            "to_city": to_city,
            "state": "planned",
            "notified_on": today,
            "planned_on": planned,
            "channel": channel,
            "old_address": _address(movers[0].address),
            "destination": destination,
            "household_head": movers[0].household_head_name if head_moves else movers[0].name,
            "members": tuple(
                _moving_person(
                    m, cards[m.resident_code], m.relationship if head_moves or i else "世帯主"
                )
                for i, m in enumerate(movers)
            ),
        }
    )


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
        verify_online(
            network, signed, move_out_payload(resident, to_city, planned, codes), resident, now
        )
    destination = _destination(to_city, town, block)
    move_out_id = f"mo-{uuid.uuid4().hex}"
    with uow:
        uow.registers.today = today
        movers = _movers(uow, resident, codes)
        cards = {m.resident_code: _moving_card(uow, m.resident_code, today) for m in movers}
        _check_cards([c for c in cards.values() if c is not None], today)
        data = _move_out_data(
            move_out_id, code, to_city, today, planned, channel, movers, cards, destination
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
