"""Dates as the register takes them in and prints them (jyuki-stnd 1.1.8, 1.1.9).

A clerk enters a date of birth as a calendar date (``1990-01-02``), in the
era as the family register writes it (``明治45年7月30日``), or as partly
unknown (``昭和20年3月日不詳``, ``昭和20年月日不詳``, ``年月日不詳``).  The
register keeps a date for every person (ages, order, Juki-net need one) and
beside it how much of it is known and, for the two days that belong to two
eras (1912-07-30, 1926-12-25), which era was written.  Printing gives back
what was entered: 明治45年7月30日 is not turned into 大正元年7月30日.

A day that is not on the calendar (2015-02-29) is refused.  Foreign
residents' dates of birth print in the Western calendar, never the era.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from kofu.core.era import ERAS, Era, era_of
from kofu.core.errors import InvalidInput

__all__ = ["DatePrecision", "EnteredDate", "parse_entered_date", "printed_date"]

UNKNOWN_DATE = date(1900, 1, 1)  # kept for a 年月日不詳 birth, as the register needs some date
# The days on which one era ended and the next began: a register written on
# that day may carry either era; a date entered without one keeps the old era,
# as the family registers of the time mostly wrote it.
_TWO_ERA_DAYS = {date(1912, 7, 30): "明治", date(1926, 12, 25): "大正"}


class DatePrecision(StrEnum):
    """How much of a date is known: 年月日, 年月 (日不詳), 年 (月日不詳), nothing (年月日不詳)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class EnteredDate:
    """A date as the register keeps it: the day, how much is known, and the era written."""

    day: date
    precision: DatePrecision = DatePrecision.DAY
    era: str | None = None  # only when the written era is not the one the table gives


_WAREKI = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和)(?P<year>元|\d{1,2})年"
    r"(?:(?P<month>\d{1,2})月)?(?:(?P<day>\d{1,2})日)?(?P<unknown>\s*(?:月日|日)不詳)?$"
)
_YEAR_ONLY = re.compile(
    r"^(?P<year>\d{4})年(?:(?P<month>\d{1,2})月)?(?P<unknown>\s*(?:月日|日)不詳)$"
)


def _calendar_day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InvalidInput(f"{text} is not a day of the calendar ({exc})", field="date") from exc


def _era(name: str) -> Era:
    return next(e for e in ERAS if e.name == name)


def _era_end(era: Era) -> date | None:
    """The last day an era may be written: the eve of the next, or a two-era day itself."""
    later = [e.start for e in ERAS if e.start > era.start]
    if not later:
        return None
    following = min(later)
    return following if following in _TWO_ERA_DAYS else following - timedelta(days=1)


def _from_wareki(m: re.Match[str], text: str) -> EnteredDate:
    era = _era(m["era"])
    year = era.start.year + (1 if m["year"] == "元" else int(m["year"])) - 1
    unknown = m["unknown"] or ""
    if m["day"] and not unknown:
        if not m["month"]:
            raise InvalidInput(f"{text} has a day without a month", field="date")
        precision, month, day_of = DatePrecision.DAY, int(m["month"]), int(m["day"])
    elif m["month"] and "月日" not in unknown and unknown:
        precision, month, day_of = DatePrecision.MONTH, int(m["month"]), 1
    elif not m["month"] and not m["day"] and "月日" in unknown:
        precision, month, day_of = DatePrecision.YEAR, 1, 1
    else:
        raise InvalidInput(
            f"{text}: write a whole date (明治45年7月30日), 年月 with 日不詳, 年 with 月日不詳, "
            "or 年月日不詳",
            field="date",
        )
    day = _calendar_day(year, month, day_of, text)
    end = _era_end(era)
    first = era.start if precision is DatePrecision.DAY else era.start.replace(day=1, month=1)
    if day < first or (end is not None and day > end):
        raise InvalidInput(f"{text} is not a day of the {era.name} era", field="date")
    written = era.name if era_of(day)[0].name != era.name else None
    return EnteredDate(day, precision, written)


def parse_entered_date(raw: str) -> EnteredDate:
    """A date of birth as entered; a day not on the calendar or a malformed text is refused."""
    text = unicodedata.normalize("NFKC", raw).strip().replace(" ", "")
    if text == "年月日不詳":
        return EnteredDate(UNKNOWN_DATE, DatePrecision.UNKNOWN)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = _calendar_day(int(text[:4]), int(text[5:7]), int(text[8:]), raw)
        return EnteredDate(day, DatePrecision.DAY, _TWO_ERA_DAYS.get(day))
    if m := _WAREKI.match(text):
        return _from_wareki(m, raw)
    if m := _YEAR_ONLY.match(text):
        month = int(m["month"]) if m["month"] else 1
        precision = DatePrecision.MONTH if m["month"] else DatePrecision.YEAR
        return EnteredDate(_calendar_day(int(m["year"]), month, 1, raw), precision)
    raise InvalidInput(
        f"{raw!r} is not a date: write 1990-01-02, 明治45年7月30日, 昭和20年3月日不詳, "
        "昭和20年月日不詳 or 年月日不詳",
        field="date",
    )


def printed_date(
    day: date,
    precision: DatePrecision = DatePrecision.DAY,
    era_name: str | None = None,
    *,
    western: bool = False,
) -> str:
    """The date as a certificate prints it: in the era (as written), or Western for foreigners."""
    if precision is DatePrecision.UNKNOWN:
        return "年月日不詳"
    if western:
        year = f"{day.year}年"
    else:
        era, number = era_of(day)
        if era_name is not None and era_name != era.name:
            era = _era(era_name)
            number = day.year - era.start.year + 1
        year = f"{era.name}{'元' if number == 1 else number}年"
    if precision is DatePrecision.YEAR:
        return f"{year}　月日不詳"
    if precision is DatePrecision.MONTH:
        return f"{year}{day.month}月　日不詳"
    return f"{year}{day.month}月{day.day}日"
