"""Appending to the activity log from any of the city's operations (EVALUATION.md §2.3).

``record_activity`` is the one function other code calls: inside the unit
of work of the operation it records, before that unit of work commits, so
the log and the work are kept together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kofu.city.domain.activity import Activity, ActivityKind, Origin
from kofu.city.domain.card_desk import CardRecord
from kofu.city.domain.ports import CityUnitOfWork

__all__ = ["record_activity", "record_card_ended"]


def record_activity(
    uow: CityUnitOfWork,
    kind: ActivityKind | str,
    occurred_at: datetime,
    *,
    ref: str | None = None,
    origin: Origin = Origin.OPERATION,
    detail: dict[str, Any] | None = None,
    **fields: Any,
) -> int | None:
    """Append one activity in the caller's open transaction; None when ``ref`` is logged already.

    ``fields`` are the Activity's qualifiers: count, channel, doc_type,
    role, cause, copies, fee_yen, programme.
    """
    activity = Activity(
        kind=ActivityKind(kind),
        occurred_at=occurred_at,
        ref=ref,
        origin=origin,
        detail=detail or {},
        **fields,
    )
    return uow.activity.append(activity, at=occurred_at)


def record_card_ended(uow: CityUnitOfWork, card: CardRecord, cause: str, at: datetime) -> None:
    """card.abolished for a card this city handed over, once per card (OPT-08's holdings).

    A card that came with a move-in was never counted here as issued, so its
    end is not counted here either.
    """
    if card.moved_in_on is None:
        kind = ActivityKind.CARD_ABOLISHED
        record_activity(uow, kind, at, ref=f"card-end:{card.card_id}", cause=cause)
