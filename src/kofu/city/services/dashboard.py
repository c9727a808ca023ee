"""The evaluation dashboard: this fiscal year's indicators by month, read live from the log."""

from __future__ import annotations

from typing import Any

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.activity import fiscal_year_of, fy_bounds, monthly_dashboard
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput

__all__ = ["dashboard"]


def dashboard(
    *, uow: CityUnitOfWork, clock: Clock, fiscal_year: int | None = None
) -> dict[str, Any]:
    """Store share, cards issued, refusals by reason and mis-issuances, month by month."""
    fy = fiscal_year if fiscal_year is not None else fiscal_year_of(clock.today())
    if not 2000 <= fy <= 2100:
        raise InvalidInput("fiscal_year is 2000 to 2100", field="fiscal_year")
    start, end = fy_bounds(fy)
    with uow:
        daily = uow.activity.daily_sums(start, end)
        city = uow.city()
    view = monthly_dashboard(fy, daily)
    return view | {"city": city.code, "name": f"{city.prefecture}{city.name}", "as_of": clock.now()}
