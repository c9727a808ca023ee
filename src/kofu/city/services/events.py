"""Applying a batch of register events: all of them, or none."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from kofu.city.domain.activity import at_noon
from kofu.city.domain.card_desk import CardState, revocation_for
from kofu.city.domain.events import Change, Event, MoveIn, apply_event, parse_event
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.services.activity import record_card_ended
from kofu.contracts.citylink import CitylinkAddress, OrdinaryMoveInNotice
from kofu.core.clock import Clock
from kofu.core.errors import KofuError

__all__ = ["NOTICE_KIND", "apply_events", "apply_within"]

NOTICE_KIND = "ordinary_move_in_notice"  # a 転入通知 in the outbox, to city-CODE


def apply_events(*, uow: CityUnitOfWork, events: Iterable[Any], clock: Clock) -> list[Change]:
    """Validate and apply every event in order in one transaction; any error changes nothing.

    The error says which event (1-based line) failed and why.
    """
    batch = str(uuid.uuid4())
    changes: list[Change] = []
    applied: list[Event] = []
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
            applied.append(event)
            uow.registers.log_event(
                batch=batch,
                at=clock.now(),
                event=event.model_dump(mode="json"),
                changes=[c.model_dump(mode="json") for c in made],
            )
            changes += made
        _notify_cards(uow, changes, clock)
        _notify_blocks(uow, changes, clock)
        _notify_former_cities(uow, applied, clock)
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
                record_card_ended(uow, card, "returned", at_noon(change.effective))


def apply_within(
    *, uow: CityUnitOfWork, events: Iterable[Any], clock: Clock, batch: str | None = None
) -> list[Change]:
    """Apply events inside a unit of work the caller opened and commits (a larger change).

    The special move-out and move-in keep their Juki-net records in the same
    transaction as the register events they cause: both or neither.
    """
    batch = batch or str(uuid.uuid4())
    changes: list[Change] = []
    applied: list[Event] = []
    uow.registers.today = clock.today()
    city = uow.city()
    for raw in events:
        event = parse_event(raw)
        made = apply_event(event, uow.registers, city)
        applied.append(event)
        uow.registers.log_event(
            batch=batch,
            at=clock.now(),
            event=event.model_dump(mode="json"),
            changes=[c.model_dump(mode="json") for c in made],
        )
        changes += made
    _notify_cards(uow, changes, clock)
    _notify_blocks(uow, changes, clock)
    _notify_former_cities(uow, applied, clock)
    return changes


# Who hears of a block set or released (jyuki-stnd 3.1, 3.2): the Juki-net CS and the
# city's other systems (宛名).  The store path reads the blocks itself.  A temporary
# release is never sent, so that no system takes it for a release.
BLOCK_TARGETS = ("juki_cs", "atena")


def _notify_blocks(uow: CityUnitOfWork, changes: list[Change], clock: Clock) -> None:
    for change in changes:
        if change.kind not in ("issuance_block", "issuance_block_release"):
            continue
        payload = {"resident": change.resident, "effective": change.effective.isoformat()}
        payload |= change.changed
        for target in BLOCK_TARGETS:
            uow.outbox.add(target=target, kind=change.kind, payload=payload, at=clock.now())


def _notify_former_cities(uow: CityUnitOfWork, events: Sequence[Event], clock: Clock) -> None:
    """A 転入通知 to the city of each 転出証明書 brought in, queued with the move-in (住基法9条)."""
    for event in events:
        if not isinstance(event, MoveIn) or event.from_city is None or event.resident is None:
            continue
        person = uow.registers.resident(event.resident)
        if person is None:  # the move-in was just written: always found
            continue
        notice = OrdinaryMoveInNotice(
            notice_id=f"mi-{uuid.uuid4().hex}",
            to_city=uow.city().code,
            resident=person.resident_code,
            name=person.name,
            birth_date=person.birth_date,
            moved_on=event.effective,
            notified_on=event.notified_on,
            address=CitylinkAddress.model_validate(person.address.model_dump()),
        )
        uow.outbox.add(
            target=f"city-{event.from_city}",
            kind=NOTICE_KIND,
            payload=notice.model_dump(mode="json"),
            at=clock.now(),
        )
