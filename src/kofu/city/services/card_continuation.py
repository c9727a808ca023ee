"""継続利用: the card that came with a special move-in, carried over at the new city.

Within 90 days of the move-in notification the holder enters the 4-digit
PIN (checked by the card) and the new address is written to the card's
record; the authentication certificate continues, the signature
certificate was revoked by the move.  Past 90 days the card is invalid.
"""

from __future__ import annotations

from pathlib import Path

from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard
from kofu.card.storage import load_card, save_card
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.special_move import check_continuation
from kofu.core.certkinds import CertKind
from kofu.core.clock import Clock
from kofu.core.errors import NotFound, Refused

__all__ = ["continue_card"]


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
