"""Applying a batch of register events: all of them, or none."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from kofu.city.domain.card_desk import CardState, revocation_for
from kofu.city.domain.events import Change, apply_event, parse_event
from kofu.city.domain.ports import CityUnitOfWork
from kofu.core.clock import Clock
from kofu.core.errors import KofuError

__all__ = ["apply_events"]


def apply_events(*, uow: CityUnitOfWork, events: Iterable[Any], clock: Clock) -> list[Change]:
    """Validate and apply every event in order in one transaction; any error changes nothing.

    The error says which event (1-based line) failed and why.
    """
    batch = str(uuid.uuid4())
    changes: list[Change] = []
    with uow:
        uow.registers.today = clock.today()
        city = uow.city()
        for number, raw in enumerate(events, start=1):
            try:
                event = parse_event(raw)
                made = apply_event(event, uow.registers, city)
            except KofuError as exc:
                exc.message = f"event {number}: {exc.message}; no event was applied"
                exc.args = (exc.message,)
                raise
            uow.registers.log_event(
                batch=batch,
                at=clock.now(),
                event=event.model_dump(mode="json"),
                changes=[c.model_dump(mode="json") for c in made],
            )
            changes += made
        _notify_cards(uow, changes, clock)
        uow.commit()
    return changes


def _notify_cards(uow: CityUnitOfWork, changes: list[Change], clock: Clock) -> None:
    """Queue the revocations register changes cause, in the same transaction (outbox)."""
    for change in changes:
        cause = revocation_for(change.kind, change.changed)
        if cause is None:
            continue
        for card in uow.cards.cards_of(change.resident):
            if card.state is not CardState.ACTIVE:
                continue
            uow.outbox.add(
                target="jpki",
                kind="revoke_card",
                payload={
                    "card_id": card.card_id,
                    "cause": cause,
                    "effective": change.effective.isoformat(),
                },
                at=clock.now(),
            )
            if cause in ("death", "card_return"):
                uow.cards.save_card(card.changed_to(CardState.RETURNED, change.effective))
