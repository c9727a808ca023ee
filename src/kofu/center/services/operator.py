"""What the operator reads and does: the settlement, the status (稼働状況), a city resumed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from kofu.center.domain.ports import UnitsOfWork
from kofu.center.domain.resume import (
    Resume,
    check_resume,
    not_stopped,
    resumed_otherwise,
    unknown_city,
)
from kofu.core.clock import Clock

__all__ = ["center_status", "resume_city", "settlement"]


def settlement(units: UnitsOfWork, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Printed issuances and fees per city and store chain in [start, end) (月次精算)."""
    with units() as uow:
        return uow.issuances.settlement(start, end)


def center_status(units: UnitsOfWork, clock: Clock, print_timeout: timedelta) -> dict[str, Any]:
    """What the operator watches: alarms, stopped cities, the log's states, prints waiting."""
    with units() as uow:
        alarms = uow.alarms.all()
        stopped = uow.alarms.stopped()
        resumes = uow.alarms.resumes()
        states = uow.issuances.states()
        per_city = uow.issuances.per_city()
    alarm_rows = [
        {"city": a.city, "kind": a.kind, "at": a.at.isoformat(), "detail": a.detail} for a in alarms
    ]
    return {
        "now": clock.now().isoformat(),
        "alarms": alarm_rows,
        "stopped_cities": stopped,
        "resumes": [_resume_row(r) for r in resumes],
        "issuances": states,
        "per_city": per_city,
        "print_timeout_seconds": int(print_timeout.total_seconds()),
    }


def _resume_row(resume: Resume) -> dict[str, Any]:
    return resume.__dict__ | {"at": resume.at.astimezone(UTC).isoformat()}


def resume_city(
    units: UnitsOfWork,
    clock: Clock,
    *,
    request_id: str,
    city: str,
    reason: str,
    operator: str,
    known: Callable[[], list[str]],
) -> dict[str, Any]:
    """A supervisor resumes a stopped city, kept with who, when and why; once per request id.

    The same request again answers the same resume; a city not stopped is
    409, a city the center never heard of 404 (``known``: the connected
    cities, asked only then), each naming ``city``.
    """
    kept = check_resume(request_id, city, reason)
    resume = Resume(request_id, clock.now(), city, operator, kept)
    with units() as uow:
        done = uow.alarms.resume(resume)
        if done:
            uow.commit()
    if done:
        return _resume_row(resume)
    with units() as uow:
        earlier = uow.alarms.resumed(request_id)
        named = earlier is None and uow.alarms.ever_named(city)
    if earlier is not None:
        if (earlier.city, earlier.reason, earlier.operator) != (city, kept, operator):
            raise resumed_otherwise(earlier)
        return _resume_row(earlier)
    if not named and city not in _known(known):
        raise unknown_city(city)
    raise not_stopped(city)


def _known(known: Callable[[], list[str]]) -> list[str]:
    """The connected cities; none when they cannot be asked (then a city is not unknown)."""
    try:
        return known()
    except Exception:  # a city link down must not turn a 409 into a 5xx
        return []
