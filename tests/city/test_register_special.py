"""特別な事由: 性別の変更 and the moves of a 特別養子縁組 (jyuki-stnd 1.1.4, 1.1.5, 1.1.11, 1.1.14).

A change of 性別 restates the person's own 続柄 (弟 → 妹) and is kept out
of the 統合記載欄 unless the special history is asked for (`--special`),
so an ordinary copy never shows the 続柄 or 性別 before it.  A child who
moves away to be adopted leaves a 除票 without the destination; the words
「特別養子縁組」 go beside the 転出先 or 転入前住所 with the special history.
"""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import Conflict

HEAD, WIFE, BROTHER = code("9900600001"), code("9900600002"), code("9900600003")
CHILD = code("9900600004")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}
ON = {"effective": DAY.isoformat()}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    family(
        w,
        (HEAD, "甲斐　一郎", "1970-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1972-05-02", "female", "妻"),
        (BROTHER, "甲斐　三郎", "1975-06-03", "male", "弟"),
        (CHILD, "甲斐　翔", "2020-02-02", "male", "子"),
    )
    return w


def test_a_change_of_sex_restates_the_relation_and_hides_the_one_before(world: World) -> None:
    world.apply({"kind": "sex_change", "resident": BROTHER, "sex": "female"} | ON)
    sister = world.person(BROTHER)
    assert (sister.sex.ja, sister.relationship) == ("女", "妹")
    text = pdf_text(issue(world, BROTHER, history=True, items=["head"]).pdf)
    assert "続柄妹" in text and "弟" not in text and "性別の変更" not in text
    text = pdf_text(issue(world, BROTHER, history=True, items=["head"], special=True).pdf)
    assert "性別の変更令和8年12月1日続柄弟→妹" in text


def test_a_married_persons_sex_is_not_changed(world: World) -> None:
    for married, sex in ((WIFE, "male"), (HEAD, "female")):
        with pytest.raises(Conflict, match="married"):
            world.apply({"kind": "sex_change", "resident": married, "sex": sex} | ON)
    assert world.person(WIFE).sex.ja == "女"


def test_a_child_moving_away_to_be_adopted_leaves_no_destination(world: World) -> None:
    move = {"kind": "move_out", "resident": CHILD, "destination": OSAKA, "notified": "2026-11-28"}
    world.apply(move | {"effective": "2026-11-28", "adoption": "特別養子縁組"})
    text = pdf_text(issue(world, CHILD, type="johyo", history=True).pdf)
    assert "大阪" not in text and "特別養子縁組" not in text
    assert "転出令和8年11月28日届出令和8年11月28日転出先" in text
    text = pdf_text(issue(world, CHILD, type="johyo", history=True, special=True).pdf)
    assert "転出先特別養子縁組" in text and "大阪" not in text
    other = pdf_text(issue(world, HEAD, type="juminhyo", history=True).pdf)
    assert "特別養子縁組" not in other


def test_a_special_adoption_dissolved_takes_the_child_back_unseen(world: World) -> None:
    """特別養子縁組解消: back to the birth family, both lines special history only."""
    with world.uow() as uow:
        adopter = next(
            p
            for p in uow.registers.residents()
            if p.is_resident
            and p.relationship == "世帯主"
            and p.family_register_id
            and (r := uow.registers.family_register(p.family_register_id)) is not None
            and r.head_name == p.name
            and r.closed_on is None
            and p.age_on(DAY) >= 25
        )
    world.apply(
        {"kind": "special_adoption", "resident": CHILD, "adopter": adopter.resident_code} | ON
    )
    household = world.person(HEAD).household_id
    back = {
        "kind": "special_adoption_dissolution",
        "resident": CHILD,
        "household": household,
        "relationship": "子",
        "name": "甲斐　翔",
        "kana": "カイ　ショウ",
    } | ON
    world.apply(back)
    child = world.person(CHILD)
    assert (child.household_id, child.relationship, child.name) == (household, "子", "甲斐　翔")
    text = pdf_text(issue(world, CHILD, history=True).pdf)
    assert "特別養子縁組" not in text and adopter.family_name not in text
    text = pdf_text(issue(world, CHILD, history=True, special=True).pdf)
    assert "特別養子縁組令和8年12月1日" in text and "特別養子縁組解消令和8年12月1日" in text
    with pytest.raises(Conflict, match="no 特別養子縁組"):
        world.apply(back | {"resident": BROTHER})
