"""Dates and relations as the standard has the register take them (jyuki-stnd 1.1.8–1.1.11).

A day not on the calendar is refused; a day of two eras prints in the era
written (明治45年7月30日, not 大正元年7月30日); 月日不詳 and 年月日不詳 are kept and
printed; a 続柄 outside the standard's list (孫, five generations) is refused.
"""

from __future__ import annotations

import pytest
from register_world import World, code, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.domain.dates import DatePrecision
from kofu.core.errors import InvalidInput

HEAD, ELDER, UNKNOWN, SHOWA, GRANDCHILD = (code(f"990001{n:04d}") for n in range(1, 6))


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def test_a_day_not_on_the_calendar_is_refused_naming_the_field(world: World) -> None:
    with pytest.raises(InvalidInput, match="birth_date") as refused:
        world.move_in(HEAD, "甲斐　一郎", "2015-02-29", "male")
    assert refused.value.field == "birth_date"
    with pytest.raises(InvalidInput, match="平成27年2月29日"):
        world.move_in(HEAD, "甲斐　一郎", "平成27年2月29日", "male")
    with pytest.raises(InvalidInput, match="平成"):
        world.move_in(HEAD, "甲斐　一郎", "平成31年5月1日", "male")  # 令和元年 by then


def test_dates_print_as_entered_and_unknown_parts_as_unknown(world: World) -> None:
    head = world.move_in(HEAD, "甲斐　一郎", "1912-07-30", "male")
    world.move_in(ELDER, "甲斐　ウメ", "大正15年12月25日", "female", "母", head.household_id)
    world.move_in(UNKNOWN, "甲斐　トメ", "年月日不詳", "female", "父の母", head.household_id)
    world.move_in(SHOWA, "甲斐　二郎", "昭和20年月日不詳", "male", "兄", head.household_id)
    assert world.person(UNKNOWN).birth_date_precision is DatePrecision.UNKNOWN
    assert world.person(SHOWA).birth_date_precision is DatePrecision.YEAR
    text = pdf_text(issue(world, HEAD, household="all", items=["head"]).pdf)
    assert "明治45年7月30日生" in text and "大正元年7月30日" not in text
    assert "大正15年12月25日生" in text and "昭和元年12月25日" not in text
    assert "年月日不詳" in text
    assert "昭和20年月日不詳" in text


def test_a_relation_outside_the_standards_list_is_refused(world: World) -> None:
    head = world.move_in(HEAD, "甲斐　一郎", "1960-01-01", "male")
    for relationship in ("孫", "祖母", "子の子の子の子の子", "世帯主の子"):
        with pytest.raises(InvalidInput, match="続柄"):
            world.move_in(
                GRANDCHILD, "甲斐　孫", "2010-01-01", "male", relationship, head.household_id
            )
    world.move_in(GRANDCHILD, "甲斐　孫", "2010-01-01", "male", "子の子", head.household_id)
    assert world.person(GRANDCHILD).relationship == "子の子"
