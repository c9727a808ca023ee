"""How the sheets print years, dates and numbers (EVALUATION.md §2.2, §2.7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from kofu.evaluation.domain.indicators import half_up

__all__ = ["era_year", "fy_label", "money", "number", "prepared_label"]

_WEEKDAYS = "月火水木金土日"


def era_year(fy: int) -> tuple[str, str]:
    """The era and year of a fiscal year as the sheets name it: (令和, 元) for FY2019."""
    if fy >= 2019:
        year = fy - 2018
        return "令和", "元" if year == 1 else str(year)
    return "平成", "元" if fy == 1989 else str(fy - 1988)


def fy_label(fy: int, template: str) -> str:
    """令和4年度 (Fukaya) or 27年度 (Hanamaki, era omitted in its tables)."""
    era, year = era_year(fy)
    return f"{era}{year}年度" if template == "fukaya" else f"{year}年度"


def prepared_label(day: date) -> str:
    """作成日 as Fukaya prints it: 令和06年06月10日(月) — two digits, computed weekday."""
    era = "令和" if day >= date(2019, 5, 1) else "平成"
    year = day.year - (2018 if era == "令和" else 1988)
    return f"{era}{year:02d}年{day.month:02d}月{day.day:02d}日({_WEEKDAYS[day.weekday()]})"


def number(value: int | Decimal, decimals: int = 0) -> str:
    """83,507 or 83,507.00: ASCII digits with thousands separators."""
    return f"{Decimal(value):,.{decimals}f}"


def money(yen: int, unit: str, *, signed: bool = False, minus: int = 0) -> str:
    """Yen, or thousands rounded half-up; with ``signed``, B − A with 「△ 」 for negatives."""
    value = yen - minus if signed else yen
    shown = value if unit == "yen" else int(half_up(Decimal(value) / 1000, 0))
    if signed and unit != "yen":  # B and A rounded first, as the sheet prints them
        shown = int(half_up(Decimal(yen) / 1000, 0)) - int(half_up(Decimal(minus) / 1000, 0))
    if shown < 0:
        return f"△ {-shown:,}"
    return f"{shown:,}"
