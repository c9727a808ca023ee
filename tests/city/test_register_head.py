"""世帯主変更 (jyuki-stnd 4.0.4, 1.1.10, 1.1.11): a head who leaves is replaced by the clerk.

A head who dies or moves out leaves the household without a head when two
or more members stay (世帯主不在, with an alert); with one left, that member
becomes head by 職権.  The clerk's ``household_head_change`` makes a member the
head and restates every 続柄 against the new head.
"""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, family
from sqlalchemy import Engine

from kofu.city.services.queries import show_resident
from kofu.core.errors import InvalidInput

HEAD, WIFE, FATHER, MOTHER, SON, SONS_WIFE, GRANDSON, YOUNGER = (
    code(f"990000{n:04d}") for n in range(1, 9)
)


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _four(world: World) -> str:
    return family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻"),
        (FATHER, "甲斐　正男", "1932-06-03", "male", "父"),
        (MOTHER, "甲斐　梅子", "1935-07-04", "female", "母"),
    )


def test_the_heads_death_leaves_no_head_and_alerts(world: World) -> None:
    household = _four(world)
    changes = world.apply({"kind": "death", "resident": HEAD, "effective": DAY.isoformat()})
    assert [c.kind for c in changes] == ["death"] + ["household_head_absent"] * 3
    assert all(c.alert and "世帯主不在" in c.alert for c in changes[1:])
    members = world.household(household)
    assert "世帯主" not in [m.relationship for m in members]  # not the late head's father
    assert {m.relationship for m in members} == {"妻", "父", "母"}
    assert all(m.household_head_name == "" and m.former_head == HEAD for m in members)
    shown = show_resident(uow=world.uow(), resident_code=WIFE, as_of=None)
    assert any("世帯主不在" in a for a in shown["alerts"])


def test_the_clerks_head_change_restates_every_relation(world: World) -> None:
    household = _four(world)
    world.apply({"kind": "death", "resident": HEAD, "effective": DAY.isoformat()})
    changes = world.apply(
        {"kind": "household_head_change", "resident": WIFE, "effective": DAY.isoformat()}
    )
    assert [c.kind for c in changes] == ["household_head_change"] * 3
    relation = {m.resident_code: m.relationship for m in world.household(household)}
    assert relation == {WIFE: "世帯主", FATHER: "夫の父", MOTHER: "夫の母"}
    assert {m.household_head_name for m in world.household(household)} == {"甲斐　花子"}
    assert show_resident(uow=world.uow(), resident_code=WIFE, as_of=None)["alerts"] == []


def test_a_son_heading_restates_siblings_and_his_own_line(world: World) -> None:
    household = family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻"),
        (SON, "甲斐　次郎", "1988-01-05", "male", "子"),
        (SONS_WIFE, "甲斐　美咲", "1990-02-06", "female", "子の妻"),
        (GRANDSON, "甲斐　翔", "2018-03-07", "male", "子の子"),
        (YOUNGER, "甲斐　三郎", "1992-08-09", "male", "子"),
    )
    world.apply({"kind": "death", "resident": HEAD, "effective": DAY.isoformat()})
    head_change = {"kind": "household_head_change", "resident": SON, "effective": DAY.isoformat()}
    # whose child the grandson is, and whose wife the son's wife is, the records do not say
    with pytest.raises(InvalidInput, match=f"{SONS_WIFE}, {GRANDSON}"):
        world.apply(head_change)
    world.apply(head_change | {"relationships": {SONS_WIFE: "妻", GRANDSON: "子"}})
    relation = {m.resident_code: m.relationship for m in world.household(household)}
    assert relation == {SON: "世帯主", WIFE: "母", YOUNGER: "弟", SONS_WIFE: "妻", GRANDSON: "子"}


def test_a_head_change_with_the_head_present_restates_the_former_head(world: World) -> None:
    household = _four(world)
    world.apply({"kind": "household_head_change", "resident": WIFE, "effective": DAY.isoformat()})
    relation = {m.resident_code: m.relationship for m in world.household(household)}
    assert relation == {WIFE: "世帯主", HEAD: "夫", FATHER: "夫の父", MOTHER: "夫の母"}


def test_with_one_member_left_she_becomes_head_by_the_city(world: World) -> None:
    household = family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻"),
    )
    changes = world.apply(
        {
            "kind": "move_out",
            "resident": HEAD,
            "effective": DAY.isoformat(),
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        }
    )
    assert [c.kind for c in changes] == ["move_out", "household_head_change"]
    assert [(m.resident_code, m.relationship) for m in world.household(household)] == [
        (WIFE, "世帯主")
    ]


def test_a_relation_outside_the_standards_list_is_refused(world: World) -> None:
    _four(world)
    world.apply({"kind": "death", "resident": HEAD, "effective": DAY.isoformat()})
    with pytest.raises(InvalidInput, match="孫"):
        world.apply(
            {
                "kind": "household_head_change",
                "resident": WIFE,
                "effective": DAY.isoformat(),
                "relationships": {FATHER: "孫"},
            }
        )
    with pytest.raises(InvalidInput, match="not another member"):
        world.apply(
            {
                "kind": "household_head_change",
                "resident": WIFE,
                "effective": DAY.isoformat(),
                "relationships": {code("9999999999"): "子"},
            }
        )
    assert world.person(WIFE).relationship == "妻"
