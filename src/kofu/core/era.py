"""Japanese era dates (和暦) as certificates print them.

The table is the Gregorian first day of each era under the Era Name Act
(元号法) and the preceding imperial proclamations.  The first year of an era
is printed 元年, as municipal certificates do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kofu.core.errors import InvalidInput

__all__ = ["ERAS", "Era", "era_of", "wareki", "wareki_year"]


@dataclass(frozen=True, slots=True)
class Era:
    """One era: its name in kanji, romanised, and its first day."""

    name: str
    romaji: str
    start: date


ERAS: tuple[Era, ...] = (
    Era("令和", "Reiwa", date(2019, 5, 1)),
    Era("平成", "Heisei", date(1989, 1, 8)),
    Era("昭和", "Showa", date(1926, 12, 25)),
    Era("大正", "Taisho", date(1912, 7, 30)),
    Era("明治", "Meiji", date(1868, 10, 23)),
)


def era_of(day: date) -> tuple[Era, int]:
    """The era a day falls in and its year within that era."""
    for era in ERAS:
        if day >= era.start:
            return era, day.year - era.start.year + 1
    raise InvalidInput(f"{day.isoformat()} is before the Meiji era", field="date")


def wareki_year(day: date) -> str:
    """``令和8年``; the first year prints as ``元年``."""
    era, year = era_of(day)
    return f"{era.name}{'元' if year == 1 else year}年"


def wareki(day: date) -> str:
    """``令和8年11月23日`` — the date as a certificate prints it."""
    return f"{wareki_year(day)}{day.month}月{day.day}日"
