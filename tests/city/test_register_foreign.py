"""Foreign residents as the standard writes them (jyuki-stnd 1.1.2, 1.1.9, 5.1).

Dates of birth and the end of a stay print in the Western calendar, never the
era; 国籍・地域 and 通称 always print; the 法第30条の45 区分 is kept and each
区分 prints only its own items; 通称 has a history of 記載 and 削除; the
alphabetic name prints; 外国人住民となった年月日 is so named; a student's card
ends with the stay.
"""

from __future__ import annotations

from datetime import date

import pytest
from register_world import DAY, World, code, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.domain.card_desk import card_validity_end
from kofu.core.errors import InvalidInput

STUDENT, KOREAN = code("9900050001"), code("9900050002")
STUDY = {
    "nationality": "ベトナム",
    "category": "中長期在留者",
    "residence_status": "留学",
    "period_of_stay": "2年",
    "period_of_stay_until": "2027-03-31",
    "residence_card_number": "AB12345678CD",
    "alias": "阮　安",
    "alphabetic_name": "NGUYEN VAN AN",
}
SPECIAL = {"nationality": "韓国", "category": "特別永住者", "residence_card_number": "12345678"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _foreigner(world: World, resident: str, birth: str, foreign: dict[str, str]) -> None:
    world.move_in(resident, "阮　文安", birth, "male", foreign=foreign, domicile=None)


def test_a_students_record_prints_western_dates_and_every_item_of_the_stay(world: World) -> None:
    _foreigner(world, STUDENT, "2001-05-06", STUDY)
    text = pdf_text(issue(world, STUDENT, items=["foreign"]).pdf)
    assert "2001年5月6日生" in text and "平成13年" not in text
    assert "氏名（アルファベット）NGUYENVANAN" in text
    assert "国籍・地域ベトナム" in text and "通称阮安" in text
    assert "法第30条の45の区分中長期在留者" in text
    assert "在留資格留学" in text and "在留期間2年" in text
    assert "在留期間の満了の日2027年3月31日" in text and "令和9年" not in text
    assert "在留カードの番号AB12345678CD" in text
    assert "外国人住民となった年月日" in text
    plain = pdf_text(issue(world, STUDENT).pdf)  # not asked for: the stay is left out
    assert "国籍・地域ベトナム" in plain and "通称阮安" in plain  # never omitted
    assert "在留資格" not in plain


def test_a_special_permanent_resident_has_no_residence_status(world: World) -> None:
    _foreigner(world, KOREAN, "1950-01-02", SPECIAL)
    text = pdf_text(issue(world, KOREAN, items=["foreign"]).pdf)
    assert "法第30条の45の区分特別永住者" in text
    assert "特別永住者証明書の番号12345678" in text
    assert "在留資格" not in text and "—" not in text and "満了" not in text
    with pytest.raises(InvalidInput, match="在留資格"):
        _foreigner(world, STUDENT, "1950-01-02", SPECIAL | {"residence_status": "特別永住者"})


def test_the_alias_keeps_its_history_of_entries_and_removals(world: World) -> None:
    _foreigner(world, STUDENT, "2001-05-06", STUDY)
    on = {"resident": STUDENT, "effective": DAY.isoformat()}
    world.apply({"kind": "alias_remove", **on})
    world.apply({"kind": "alias_set", "alias": "阮　安二", **on})
    foreign = world.person(STUDENT).foreign
    assert foreign is not None and foreign.alias == "阮　安二"
    assert [(e.action, e.alias) for e in foreign.alias_history] == [
        ("記載", "阮　安"),
        ("削除", "阮　安"),
        ("記載", "阮　安二"),
    ]
    text = pdf_text(issue(world, STUDENT, items=["foreign"]).pdf)
    assert "令和8年12月1日深谷市削除阮安" in text and "令和8年11月1日深谷市記載阮安" in text


def test_a_students_card_ends_with_the_stay() -> None:
    assert card_validity_end(date(2001, 5, 6), date(2026, 12, 1), date(2027, 3, 31)) == date(
        2027, 3, 31
    )
    assert card_validity_end(date(2001, 5, 6), date(2026, 12, 1)) == date(2036, 5, 6)
