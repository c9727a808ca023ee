"""Which register changes reach a card's certificates, and the card's validity rules."""

from __future__ import annotations

from datetime import date

import pytest

from kofu.city.domain.card_desk import card_validity_end, renewal_opens, revocation_for


@pytest.mark.parametrize(
    ("kind", "changed", "cause"),
    [
        ("death", {"status": "deceased"}, "death"),
        ("move_within", {"address": {"town": "仲町"}}, "move"),
        (
            "move_out",
            {"status": "moved_out", "move_out_destination": {"prefecture": "東京都"}},
            "move",
        ),
        (
            "move_out",
            {"move_out_destination": {"prefecture": "国外", "city": "カナダ"}},
            "card_return",
        ),
        ("name_change", {"name": "田中　花子"}, "name_change"),
        ("marriage", {"name": "田中　花子", "kana": "タナカ　ハナコ"}, "name_change"),
        ("household_change", {"household_id": "0000000009"}, None),
        ("move_out_planned", {"planned_move_out": {}}, None),
    ],
)
def test_revocation_for(kind: str, changed: dict[str, object], cause: str | None) -> None:
    assert revocation_for(kind, changed) == cause


@pytest.mark.parametrize(
    ("birth", "issued", "expires"),
    [
        (date(1990, 5, 10), date(2026, 11, 23), date(2036, 5, 10)),  # adult: 10th birthday
        (date(2010, 5, 10), date(2026, 11, 23), date(2031, 5, 10)),  # 16: 5th birthday
        (date(2008, 11, 24), date(2026, 11, 23), date(2030, 11, 24)),  # 18 tomorrow: still under 18
        (date(2008, 11, 23), date(2026, 11, 23), date(2036, 11, 23)),  # 18 today
        (date(2000, 2, 29), date(2026, 11, 23), date(2036, 2, 29)),  # leap-day birthday in 2036
        (date(2000, 2, 29), date(2025, 11, 23), date(2035, 2, 28)),  # common year: 28 Feb
    ],
)
def test_card_validity(birth: date, issued: date, expires: date) -> None:
    assert card_validity_end(birth, issued) == expires


def test_renewal_opens_three_months_before() -> None:
    assert renewal_opens(date(2031, 5, 10)) == date(2031, 2, 10)
    assert renewal_opens(date(2031, 5, 31)) == date(2031, 2, 28)
    assert renewal_opens(date(2031, 1, 15)) == date(2030, 10, 15)
