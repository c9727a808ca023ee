"""Counting birthdays, as card and certificate validity do.

A person born on 29 February has the birthday on 28 February in a common
year (the municipal practice for card expiry dates).
"""

from __future__ import annotations

from datetime import date

__all__ = ["birthday_after", "birthday_in"]


def birthday_in(birth: date, year: int) -> date:
    """The birthday in ``year``; 29 Feb becomes 28 Feb in a common year."""
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def birthday_after(birth: date, on: date, count: int) -> date:
    """The ``count``-th birthday strictly after ``on``."""
    first = birthday_in(birth, on.year)
    start = on.year if first > on else on.year + 1
    return birthday_in(birth, start + count - 1)
