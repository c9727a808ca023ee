"""Use cases over a city's activity log: import history, record staff facts, reverse a record."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.activity import COMPLAINT_CAUSES, JST, Activity, ActivityKind, Origin
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput
from kofu.core.text import check_plain
from kofu.evaluation.domain.history import parse_history
from kofu.evaluation.domain.sheet import FUNDING

__all__ = ["demo_history", "import_history", "record_fact", "reverse_record"]

STAGES = ("settled", "budget", "plan")


def import_history(engine: Engine, text: str, clock: Clock) -> dict[str, Any]:
    """Load a history CSV in one transaction: every row, or none (the bad line named)."""
    activities = parse_history(text)
    with CityUnitOfWork(engine) as uow:
        uow.activity.append_many(activities, at=clock.now())
        uow.commit()
    kinds: dict[str, int] = {}
    for a in activities:
        kinds[a.kind.value] = kinds.get(a.kind.value, 0) + a.count
    first = min(a.day for a in activities)
    last = max(a.day for a in activities)
    return {
        "rows": len(activities),
        "counts": dict(sorted(kinds.items())),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "origin": "import",
    }


def demo_history(engine: Engine, code: str, clock: Clock) -> dict[str, Any] | None:
    """The packaged history of a demo city, loaded once (a store with imported rows is kept)."""
    source = resources.files("kofu.evaluation") / "history" / f"{code}.csv"
    if not source.is_file():
        return None
    with engine.connect() as conn:
        done = conn.execute(
            select(t.activity_log.c.id).where(t.activity_log.c.origin == "import").limit(1)
        ).first()
    if done is not None:
        return None
    report = import_history(engine, source.read_text(encoding="utf-8"), clock)
    staff = resources.files("kofu.evaluation") / "history" / f"{code}-staff.json"
    if staff.is_file():
        for fact in json.loads(staff.read_text(encoding="utf-8")):
            on = date.fromisoformat(fact.pop("on"))
            record_fact(engine, fact.pop("kind"), clock, on=on, **fact)
    return report


def _on(day: date | None, clock: Clock) -> datetime:
    if day is None:
        return clock.now()
    if day > clock.today():
        raise InvalidInput("a fact is recorded for a day that has come", field="on")
    return datetime.combine(day, time(12), JST)


def record_fact(
    engine: Engine,
    kind: str,
    clock: Clock,
    *,
    on: date | None = None,
    count: int = 1,
    cause: str = "",
    programme: str = "",
    hours: str = "",
    category: str = "regular",
    fiscal_year: int | None = None,
    stage: str = "",
    amount_yen: int | None = None,
    funding: str = "",
    setsu: str = "",
    setsu_name: str = "",
    item: str = "",
    note: str = "",
) -> dict[str, Any]:
    """What no machine sees: a complaint, staff hours on a programme, a budget or settled amount."""
    check_plain(note=note, setsu_name=setsu_name, item=item)
    at = _on(on, clock)
    if kind == "complaint":
        if cause not in COMPLAINT_CAUSES:
            raise InvalidInput(f"cause is one of {', '.join(COMPLAINT_CAUSES)}", field="cause")
        if count < 1 or count > 1000:
            raise InvalidInput("count is 1 to 1000", field="count")
        activity = Activity(
            ActivityKind.COMPLAINT,
            at,
            count=count,
            cause=cause,
            origin=Origin.STAFF,
            detail={"note": note} if note else {},
        )
    elif kind == "staff-hours":
        minutes = _minutes(hours)
        _programme(programme)
        activity = Activity(
            ActivityKind.STAFF_TIME,
            at,
            count=minutes,
            role=category,
            programme=programme,
            origin=Origin.STAFF,
        )
    elif kind == "finance":
        activity = _finance(
            at, programme, fiscal_year, stage, amount_yen, funding, setsu, setsu_name, item
        )
    else:
        raise InvalidInput("kind is complaint, staff-hours or finance", field="kind")
    with CityUnitOfWork(engine) as uow:
        number = uow.activity.append(activity, at=clock.now())
        uow.commit()
    return {
        "id": number,
        "kind": activity.kind.value,
        "day": activity.day.isoformat(),
        "count": activity.count,
        "fee_yen": activity.fee_yen,
        "origin": "staff",
    }


def _programme(programme: str) -> None:
    if not (programme.isdigit() and len(programme) <= 16):
        raise InvalidInput("programme is the programme's number, e.g. 16231", field="programme")


def _minutes(hours: str) -> int:
    try:
        value = Decimal(hours)
    except InvalidOperation as exc:
        raise InvalidInput(f"hours is a number, not {hours!r}", field="hours") from exc
    if not (0 < value <= 100_000):
        raise InvalidInput("hours is more than 0 and at most 100,000", field="hours")
    return int((value * 60).to_integral_value())


def _finance(
    at: datetime,
    programme: str,
    fiscal_year: int | None,
    stage: str,
    amount_yen: int | None,
    funding: str,
    setsu: str,
    setsu_name: str,
    item: str,
) -> Activity:
    _programme(programme)
    if fiscal_year is None or not 1989 <= fiscal_year <= 2200:
        raise InvalidInput("a finance amount names its fiscal year (会計年度)", field="fiscal_year")
    if stage not in STAGES:
        raise InvalidInput(f"stage is one of {', '.join(STAGES)}", field="stage")
    if amount_yen is None or not 0 <= amount_yen <= 10**12:
        raise InvalidInput("amount_yen is 0 to 1,000,000,000,000", field="amount_yen")
    if funding and funding not in (*FUNDING, "general"):
        raise InvalidInput(f"funding is one of {', '.join(FUNDING)} or general", field="funding")
    source = "" if funding in ("", "general") else funding
    detail = {"fiscal_year": fiscal_year, "stage": stage}
    detail |= {k: v for k, v in (("setsu", setsu), ("setsu_name", setsu_name), ("item", item)) if v}
    return Activity(
        ActivityKind.FINANCE,
        at,
        count=1,
        fee_yen=amount_yen,
        role=source,
        programme=programme,
        origin=Origin.STAFF,
        detail=detail,
    )


def reverse_record(engine: Engine, activity_id: int, reason: str, clock: Clock) -> dict[str, Any]:
    """A correction: a reversal row that refers to the original, which stays as it was."""
    check_plain(reason=reason)
    if not reason.strip():
        raise InvalidInput("a reversal says why", field="reason")
    with CityUnitOfWork(engine) as uow:
        new_id = uow.activity.reverse(activity_id, reason, at=clock.now())
        uow.commit()
    return {"id": new_id, "voids": activity_id}
