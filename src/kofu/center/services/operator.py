"""What the operator reads: the monthly settlement and the center's status (稼働状況)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from kofu.center.domain.ports import UnitsOfWork
from kofu.core.clock import Clock

__all__ = ["center_status", "settlement"]


def settlement(units: UnitsOfWork, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Printed issuances and fees per city and store chain in [start, end) (月次精算)."""
    with units() as uow:
        return uow.issuances.settlement(start, end)


def center_status(units: UnitsOfWork, clock: Clock, print_timeout: timedelta) -> dict[str, Any]:
    """What the operator watches: alarms, stopped cities, the log's states, prints waiting."""
    with units() as uow:
        alarms = uow.alarms.all()
        states = uow.issuances.states()
        per_city = uow.issuances.per_city()
    alarm_rows = [
        {"city": a.city, "kind": a.kind, "at": a.at.isoformat(), "detail": a.detail} for a in alarms
    ]
    return {
        "now": clock.now().isoformat(),
        "alarms": alarm_rows,
        "stopped_cities": sorted({a.city for a in alarms if a.city}),
        "issuances": states,
        "per_city": per_city,
        "print_timeout_seconds": int(print_timeout.total_seconds()),
    }
