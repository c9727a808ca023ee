"""仮登録 and 本登録 (jyuki-stnd 4.0.8): changes entered, checked, approved or withdrawn.

Entering checks each change against the register as if it were applied now
and keeps it, applying nothing: no history, no certificate and no other
system sees it.  Approval applies the entries as ``kofu event`` would, all
or none, checked again against the register as it stands then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kofu.city.domain.events import Change, apply_event, parse_event
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.domain.provisional import EntryState, ProvisionalEntry
from kofu.city.services.events import apply_within
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound

__all__ = ["enter_provisionally", "list_entries", "register_entries", "withdraw_entry"]


def enter_provisionally(
    *, uow: CityUnitOfWork, events: Iterable[Any], clock: Clock, staff: str | None = None
) -> list[ProvisionalEntry]:
    """Keep each event as a provisional entry once it is shown to apply; apply none."""
    raws = list(events)
    _check(uow, raws, clock)
    entries = []
    with uow:
        for raw in raws:
            event = parse_event(raw)
            entry = ProvisionalEntry(
                entry_id=uow.provisional.new_entry_id(),
                kind=event.kind,
                resident_code=getattr(event, "resident", None),
                event=event.model_dump(mode="json"),
                entered_at=clock.now(),
                entered_by=staff,
            )
            uow.provisional.add(entry)
            entries.append(entry)
        uow.commit()
    return entries


def _check(uow: CityUnitOfWork, raws: Sequence[Any], clock: Clock) -> None:
    """Apply the batch in a transaction that is rolled back: the error names the event."""
    with uow:
        uow.registers.today = clock.today()
        city = uow.city()
        for number, raw in enumerate(raws, start=1):
            try:
                apply_event(parse_event(raw), uow.registers, city)
            except KofuError as exc:
                exc.message = f"event {number}: {exc.message}; nothing was entered"
                exc.args = (exc.message,)
                raise
    # leaving without commit rolls every change of the check back


def register_entries(
    *, uow: CityUnitOfWork, entry_ids: Sequence[str], clock: Clock, staff: str | None = None
) -> list[Change]:
    """本登録: apply the pending entries in the order given, all or none, and mark them."""
    if not entry_ids:
        raise InvalidInput("name at least one entry to register", field="entry")
    changes: list[Change] = []
    with uow:
        for entry_id in dict.fromkeys(entry_ids):
            entry = _entry(uow, entry_id)
            decided = entry.decided(EntryState.REGISTERED, clock.now(), staff)
            _claim(uow, decided)  # first: a second clerk at the same moment gets a 409
            try:
                changes += apply_within(uow=uow, events=[entry.event], clock=clock)
            except KofuError as exc:
                exc.message = f"entry {entry_id}: {exc.message}; no entry was registered"
                exc.args = (exc.message,)
                raise
        uow.commit()
    return changes


def withdraw_entry(
    *, uow: CityUnitOfWork, entry_id: str, clock: Clock, staff: str | None = None
) -> ProvisionalEntry:
    """取消 of a pending entry: it is kept, marked withdrawn, and can no longer be registered."""
    with uow:
        withdrawn = _entry(uow, entry_id).decided(EntryState.WITHDRAWN, clock.now(), staff)
        _claim(uow, withdrawn)
        uow.commit()
    return withdrawn


def list_entries(
    *, uow: CityUnitOfWork, state: str | None = "pending", resident_code: str | None = None
) -> list[ProvisionalEntry]:
    """仮登録一覧: the pending entries (or of a state, or all), of everyone or of one person."""
    try:
        wanted = EntryState(state) if state else None
    except ValueError as exc:
        names = ", ".join(s.value for s in EntryState)
        raise InvalidInput(f"state is one of {names}", field="state") from exc
    with uow:
        return uow.provisional.entries(state=wanted, resident_code=resident_code)


def _entry(uow: CityUnitOfWork, entry_id: str) -> ProvisionalEntry:
    entry = uow.provisional.entry(entry_id)
    if entry is None:
        raise NotFound(f"no provisional entry {entry_id}", field="entry")
    return entry


def _claim(uow: CityUnitOfWork, decided: ProvisionalEntry) -> None:
    """The decision written only over a pending entry: two clerks at once, one decides."""
    if not uow.provisional.decide(decided):
        raise Conflict(f"entry {decided.entry_id} was decided by someone else", field="entry")
