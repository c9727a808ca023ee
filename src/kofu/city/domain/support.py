"""Periods of support measures (支援措置), standard spec j440.

A measure lasts one year: it starts on the day it is decided and ends on the
day before the same date a year later (1 Apr 2020 → 31 Mar 2021).  It can be
extended from one month before its end, by a year counted from the day after.
"""

from __future__ import annotations

from datetime import date, timedelta

from kofu.city.domain.model import SupportMeasure
from kofu.core.errors import Conflict

__all__ = ["extend_measure", "extension_opens", "measure_end"]


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _minus_month(day: date) -> date:
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def measure_end(start: date) -> date:
    """The last day of a one-year measure starting on ``start``."""
    return _plus_years(start, 1) - timedelta(days=1)


def extension_opens(measure: SupportMeasure) -> date:
    """The first day an extension may be asked for: one month before the end."""
    return _minus_month(measure.end)


def extend_measure(measure: SupportMeasure, on: date) -> SupportMeasure:
    """The measure extended by a year; refused outside the month before its end."""
    opens = extension_opens(measure)
    if not opens <= on <= measure.end:
        raise Conflict(
            f"an extension can be asked from {opens.isoformat()} to {measure.end.isoformat()}",
            field="effective",
        )
    return measure.model_copy(
        update={
            "end": measure_end(measure.end + timedelta(days=1)),
            "extended_times": measure.extended_times + 1,
            "provisional": False,
        }
    )
