"""Monthly settlement (月次精算): printed issuances and their fees per city and store chain.

Only a confirmed print is charged; a month runs in Japan's time, first day
included, first day of the next month not.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kofu.core.clock import JST
from kofu.core.errors import InvalidInput

__all__ = ["month_span"]


def month_span(text: str) -> tuple[datetime, datetime]:
    """[start, end) of the month ``YYYY-MM`` in JST; anything else is 422 naming ``month``."""
    try:
        start = datetime.strptime(text, "%Y-%m").replace(tzinfo=JST)
        end = (start + timedelta(days=32)).replace(day=1)
    except (ValueError, OverflowError) as exc:  # 9999-12 has no month after it
        raise InvalidInput("month is YYYY-MM", field="month") from exc
    return start, end
