"""Era dates as certificates print them, at every boundary."""

from __future__ import annotations

from datetime import date

import pytest

from kofu.core.era import wareki
from kofu.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 23), "令和8年11月23日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(2000, 2, 29), "平成12年2月29日"),
    ],
)
def test_wareki(day: date, text: str) -> None:
    assert wareki(day) == text


def test_before_meiji_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before the Meiji era"):
        wareki(date(1868, 1, 1))
