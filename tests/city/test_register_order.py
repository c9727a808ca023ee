"""世帯員の並び順 (jyuki-stnd 5.2): by relation to the head, families together, the clerk's order.

Head, spouse and the head's unmarried children come first; a married child
follows with spouse and children; then parents, siblings, grandparents; other
relatives, 縁故者, and 同居人 last.  The clerk may set the order by hand; one
who joins later is written after.
"""

from __future__ import annotations

import pytest
from register_world import World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import InvalidInput

HEAD, LODGER, WIFES_FATHER, MOTHER, SON, SONS_WIFE, GRANDCHILD, DAUGHTER, WIFE, LATE = (
    code(f"990002{n:04d}") for n in range(1, 11)
)
SONS_REGISTER = {"domicile": "東京都千代田区千代田2番", "domicile_head": "甲斐　太郎"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _household(world: World) -> str:
    """Brought in deliberately out of order: 同居人 first, the head's wife last."""
    household = family(world, (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"))
    join = [
        (LODGER, "山梨　五郎", "1950-01-01", "male", "同居人", {}),
        (WIFES_FATHER, "石和　六郎", "1935-01-01", "male", "妻の父", {}),
        (MOTHER, "甲斐　梅子", "1934-07-04", "female", "母", {}),
        (GRANDCHILD, "甲斐　翔", "2018-03-07", "male", "子の子", SONS_REGISTER),
        (SON, "甲斐　太郎", "1985-01-05", "male", "子", SONS_REGISTER),
        (SONS_WIFE, "甲斐　美咲", "1986-02-06", "female", "子の妻", SONS_REGISTER),
        (DAUGHTER, "甲斐　桃子", "1990-03-03", "female", "子", {}),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻", {}),
    ]
    for person, name, birth, sex, relationship, register in join:
        world.move_in(person, name, birth, sex, relationship, household, **register)
    return household


STANDARD = [HEAD, WIFE, DAUGHTER, SON, SONS_WIFE, GRANDCHILD, MOTHER, WIFES_FATHER, LODGER]


def test_members_are_ordered_by_relation_and_family(world: World) -> None:
    household = _household(world)
    assert [m.resident_code for m in world.household(household)] == STANDARD
    text = pdf_text(issue(world, HEAD, household="all", items=["head"]).pdf)
    names = ["甲斐一郎", "甲斐花子", "甲斐桃子", "甲斐太郎", "甲斐美咲", "甲斐翔", "甲斐梅子"]
    names += ["石和六郎", "山梨五郎"]
    printed = [text.index(f"氏名{n}") for n in names]
    assert printed == sorted(printed), "members print in the standard's order"


def test_the_clerks_order_and_one_who_joins_last(world: World) -> None:
    household = _household(world)
    manual = [HEAD, MOTHER, WIFE, SON, SONS_WIFE, GRANDCHILD, DAUGHTER, LODGER, WIFES_FATHER]
    event = {"kind": "household_order", "resident": HEAD, "effective": "2026-12-01"}
    with pytest.raises(InvalidInput, match="every member"):
        world.apply(event | {"order": manual[:-1]})
    changes = world.apply(event | {"order": manual})
    assert {c.kind for c in changes} == {"household_order"}
    world.move_in(LATE, "甲斐　七子", "2000-01-01", "female", "子", household)
    assert [m.resident_code for m in world.household(household)] == [*manual, LATE]
