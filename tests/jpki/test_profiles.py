"""Validity periods: the certificates' fifth birthday, the card's fifth or tenth, 29 February."""

from __future__ import annotations

from datetime import date

import pytest

from kofu.city.domain.card_desk import card_validity_end
from kofu.core.birthdays import birthday_after, birthday_in
from kofu.jpki.domain.profiles import _utf8, certificate_validity_end, read_utf8

LEAP_BIRTH = date(2000, 2, 29)


# --- birthday_after -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "on", "count", "expected"),
    [
        # issued before this year's birthday: the first birthday is this year's
        (date(1990, 5, 10), date(2026, 1, 15), 1, date(2026, 5, 10)),
        (date(1990, 5, 10), date(2026, 1, 15), 5, date(2030, 5, 10)),
        # issued after it: the first is next year's
        (date(1990, 5, 10), date(2026, 11, 23), 1, date(2027, 5, 10)),
        (date(1990, 5, 10), date(2026, 11, 23), 5, date(2031, 5, 10)),
        # issued on the birthday itself: "after" is strict, that day does not count
        (date(1990, 5, 10), date(2026, 5, 10), 1, date(2027, 5, 10)),
        (date(1990, 5, 10), date(2026, 5, 10), 5, date(2031, 5, 10)),
        # the day before the birthday: it counts as the first
        (date(1990, 5, 10), date(2026, 5, 9), 5, date(2030, 5, 10)),
        (date(1990, 5, 10), date(2026, 5, 9), 10, date(2035, 5, 10)),
        # 31 December / 1 January around the year's turn
        (date(1990, 12, 31), date(2026, 12, 31), 1, date(2027, 12, 31)),
        (date(1990, 1, 1), date(2026, 12, 31), 1, date(2027, 1, 1)),
    ],
)
def test_birthday_after_counts_birthdays_strictly_after(
    birth: date, on: date, count: int, expected: date
) -> None:
    assert birthday_after(birth, on, count) == expected


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 2, 29)),  # leap year: the day itself
        (2025, date(2025, 2, 28)),  # common years: 28 February
        (2026, date(2026, 2, 28)),
        (2100, date(2100, 2, 28)),  # a century year that is not leap
        (2000, date(2000, 2, 29)),  # a century year that is
    ],
)
def test_birthday_in_for_29_february(year: int, expected: date) -> None:
    assert birthday_in(LEAP_BIRTH, year) == expected


@pytest.mark.parametrize(
    ("on", "count", "expected"),
    [
        # the fifth birthday falls in a common year: 28 February
        (date(2025, 3, 1), 5, date(2030, 2, 28)),
        (date(2025, 1, 10), 5, date(2029, 2, 28)),
        # ... and in a leap year: 29 February
        (date(2023, 3, 1), 5, date(2028, 2, 29)),
        (date(2023, 1, 10), 5, date(2027, 2, 28)),
        (date(2024, 1, 10), 5, date(2028, 2, 29)),
        # issued on 28 February of a common year: that is the birthday, so it does not count
        (date(2027, 2, 28), 1, date(2028, 2, 29)),
        (date(2027, 2, 28), 5, date(2032, 2, 29)),
        # issued on 29 February itself
        (date(2024, 2, 29), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 4, date(2028, 2, 29)),
        (date(2024, 2, 29), 5, date(2029, 2, 28)),
        # the day before: 28 February of a leap year is not the birthday
        (date(2024, 2, 28), 1, date(2024, 2, 29)),
        (date(2024, 2, 28), 5, date(2028, 2, 29)),
    ],
)
def test_birthday_after_for_29_february(on: date, count: int, expected: date) -> None:
    assert birthday_after(LEAP_BIRTH, on, count) == expected


# --- certificate validity -------------------------------------------------------------------


def test_certificate_valid_to_fifth_birthday_after_issue() -> None:
    assert certificate_validity_end(date(1990, 5, 10), date(2026, 11, 23), None) == date(
        2031, 5, 10
    )
    assert certificate_validity_end(date(1990, 12, 24), date(2026, 11, 23), None) == date(
        2030, 12, 24
    )


@pytest.mark.parametrize(
    ("card_expiry", "expected"),
    [
        (date(2029, 1, 1), date(2029, 1, 1)),  # the card ends first: the card wins
        (date(2031, 5, 9), date(2031, 5, 9)),  # one day before the fifth birthday
        (date(2031, 5, 10), date(2031, 5, 10)),  # the same day
        (date(2031, 5, 11), date(2031, 5, 10)),  # one day after: the birthday wins
        (date(2036, 5, 10), date(2031, 5, 10)),  # a ten-year card: the birthday wins
    ],
)
def test_certificate_validity_ends_with_the_card_if_sooner(
    card_expiry: date, expected: date
) -> None:
    assert certificate_validity_end(date(1990, 5, 10), date(2026, 11, 23), card_expiry) == expected


def test_certificate_validity_for_29_february() -> None:
    # fifth birthday in 2030, a common year
    assert certificate_validity_end(LEAP_BIRTH, date(2025, 3, 1), None) == date(2030, 2, 28)
    # fifth birthday in 2028, a leap year
    assert certificate_validity_end(LEAP_BIRTH, date(2023, 3, 1), None) == date(2028, 2, 29)
    # the card (10 years, issued at 25) outlasts the certificate
    card = card_validity_end(LEAP_BIRTH, date(2025, 3, 1))
    assert card == date(2035, 2, 28)
    assert certificate_validity_end(LEAP_BIRTH, date(2025, 3, 1), card) == date(2030, 2, 28)


def test_child_certificate_ends_with_the_five_year_card() -> None:
    # a 10-year-old: card and certificate both end on the fifth birthday after issue
    birth, issued = date(2016, 7, 1), date(2026, 11, 23)
    card = card_validity_end(birth, issued)
    assert card == date(2031, 7, 1)
    assert certificate_validity_end(birth, issued, card) == card


# --- card validity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "issued", "expected"),
    [
        # adults: the tenth birthday after issue
        (date(1990, 5, 10), date(2026, 11, 23), date(2036, 5, 10)),
        (date(1950, 1, 1), date(2026, 11, 23), date(2036, 1, 1)),
        # children: the fifth
        (date(2016, 7, 1), date(2026, 11, 23), date(2031, 7, 1)),
        (date(2026, 6, 1), date(2026, 11, 23), date(2031, 6, 1)),  # a baby
        # the day before the 18th birthday: still 17, five years
        (date(2008, 11, 24), date(2026, 11, 23), date(2030, 11, 24)),
        # on the 18th birthday: 18, ten years (the birthday itself does not count)
        (date(2008, 11, 23), date(2026, 11, 23), date(2036, 11, 23)),
        # the day after it
        (date(2008, 11, 22), date(2026, 11, 23), date(2036, 11, 22)),
    ],
)
def test_card_validity(birth: date, issued: date, expected: date) -> None:
    assert card_validity_end(birth, issued) == expected


@pytest.mark.parametrize(
    ("issued", "expected"),
    [
        # born 29 Feb 2008, issued in a common year (2026): aged 17 on 28 February
        (date(2026, 2, 27), date(2030, 2, 28)),
        (date(2026, 2, 28), date(2031, 2, 28)),  # fifth birthday after (28 Feb is the birthday)
        # from 1 March 2026 they are 18: ten years
        (date(2026, 3, 1), date(2036, 2, 29)),
        # (born 29 February, the 18th birthday always falls in a common year)
        # aged 19 on 28 Feb 2028: the 29th is the first birthday, the tenth is 2037-02-28
        (date(2028, 2, 28), date(2037, 2, 28)),
        # issued on 29 Feb 2028 itself: the tenth birthday after is 2038-02-28
        (date(2028, 2, 29), date(2038, 2, 28)),
    ],
)
def test_card_validity_for_29_february_around_18(issued: date, expected: date) -> None:
    assert card_validity_end(date(2008, 2, 29), issued) == expected


def test_card_validity_for_29_february_child_in_leap_year() -> None:
    # born 29 Feb 2012, issued on 29 Feb 2024 (aged 12): five years, ending in 2029 → 28 Feb
    assert card_validity_end(date(2012, 2, 29), date(2024, 2, 29)) == date(2029, 2, 28)
    # issued the day before, 28 Feb 2024: the 29th is the first birthday, fifth is 2028-02-29
    assert card_validity_end(date(2012, 2, 29), date(2024, 2, 28)) == date(2028, 2, 29)


# --- the DER UTF8String of the basic facts ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "1", "19900510", "深谷 花子", "埼玉県深谷市仲町" * 10, "あ" * 100_000],
)
def test_utf8_round_trip(text: str) -> None:
    der = _utf8(text)
    assert der[0] == 12
    raw = text.encode()
    if len(raw) < 0x80:
        assert der[1] == len(raw)
    else:
        size = der[1] & 0x7F
        assert der[1] & 0x80
        assert int.from_bytes(der[2 : 2 + size], "big") == len(raw)
    assert der.endswith(raw)
    assert read_utf8(der) == text


def test_read_utf8_refuses_other_tags() -> None:
    with pytest.raises(ValueError):
        read_utf8(b"\x13\x02ab")  # PrintableString
    with pytest.raises(ValueError):
        read_utf8(b"")
