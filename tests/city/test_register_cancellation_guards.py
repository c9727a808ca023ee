"""Cancellation (取消) against the special history, the family register, blocks and seals."""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import Conflict

HEAD, WIFE, BROTHER = code("9900600001"), code("9900600002"), code("9900600003")
CHILD = code("9900600004")
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


def _newest(world: World, resident: str) -> int:
    with world.uow() as uow:
        return uow.registers.history(resident)[-1].version


def test_a_change_of_sex_is_not_cancelled_here_and_stays_off_an_ordinary_copy(
    world: World,
) -> None:
    """性別の変更 follows the family register: put right by 戸籍訂正, never by a cancellation."""
    world.apply({"kind": "sex_change", "resident": BROTHER, "sex": "female"} | ON)
    cancel = {"kind": "cancellation", "resident": BROTHER, "version": _newest(world, BROTHER)}
    with pytest.raises(Conflict, match="family register"):
        world.apply(cancel | {"reason": "誤り"} | ON)
    text = pdf_text(issue(world, BROTHER, history=True, items=["head"]).pdf)
    assert "性別の変更" not in text and "取消" not in text, text


def test_a_special_adoption_dissolution_is_not_cancelled_here(world: World) -> None:
    """A family-register event (特別養子縁組の解消) is put right by 戸籍訂正, as its 縁組 is."""
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
    world.apply(
        {
            "kind": "special_adoption_dissolution",
            "resident": CHILD,
            "household": world.person(HEAD).household_id,
            "relationship": "子",
        }
        | ON
    )
    cancel = {"kind": "cancellation", "resident": CHILD, "version": _newest(world, CHILD)}
    with pytest.raises(Conflict, match="family register"):
        world.apply(cancel | {"reason": "誤り"} | ON)


OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}


def test_a_block_on_changes_stops_a_members_cancellation_too(world: World) -> None:
    """A 異動 block on a person stops their change being cancelled, named in ``members`` or not."""
    from kofu.core.errors import Refused

    world.apply(
        {"kind": "name_change", "resident": BROTHER, "name": "甲斐　四郎", "kana": "カイ　シロウ"}
        | ON
    )
    world.apply(
        {
            "kind": "issuance_block",
            "resident": BROTHER,
            "reason": "不正請求の疑い",
            "processes": ["異動"],
        }
        | ON
    )
    alone = {"kind": "cancellation", "resident": BROTHER, "version": _newest(world, BROTHER)}
    with pytest.raises(Refused):  # on its own, the block stops it
        world.apply(alone | {"reason": "誤り"} | ON)
    world.apply(
        {"kind": "name_change", "resident": HEAD, "name": "甲斐　一男", "kana": "カイ　カズオ"} | ON
    )
    cancel = {
        "kind": "cancellation",
        "resident": HEAD,
        "version": _newest(world, HEAD),
        "members": [BROTHER],
    }
    with pytest.raises(Refused):
        world.apply(cancel | {"reason": "誤り"} | ON)
    assert world.person(BROTHER).name == "甲斐　四郎"


def test_a_seal_abolished_by_its_owner_stays_abolished_when_a_death_is_cancelled(
    world: World,
) -> None:
    """廃止届 on the day of a death entered in error: its cancellation must not revive the seal."""
    world.apply({"kind": "seal_register", "resident": WIFE, "effective": "2026-11-02"})
    world.apply({"kind": "seal_abolish", "resident": WIFE, "effective": "2026-11-25"})
    world.apply({"kind": "death", "resident": WIFE, "effective": "2026-11-25"})
    cancel = {"kind": "cancellation", "resident": WIFE, "version": _newest(world, WIFE)}
    world.apply(cancel | {"reason": "誤り"} | ON)
    assert world.person(WIFE).is_resident
    with world.uow() as uow:
        seal = uow.registers.seal(WIFE)
    assert seal is None or not seal.active, seal


OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}


def test_a_cancellation_never_leaves_a_household_without_the_head_it_names(
    world: World,
) -> None:
    """A child put back into a household whose head has left since: refused, nothing changes."""
    world.apply({"kind": "household_change", "resident": CHILD, "household": "new"} | ON)
    moved = world.person(CHILD)
    world.apply({"kind": "move_out", "resident": HEAD, "destination": OSAKA} | ON)
    assert all(world.person(p).head_absent for p in (WIFE, BROTHER))  # 世帯主不在, waiting
    cancel = {"kind": "cancellation", "resident": CHILD, "version": _newest(world, CHILD)}
    cancel_version = _newest(world, CHILD)
    with pytest.raises(Conflict, match="no head"):
        world.apply(cancel | {"reason": "誤り"} | ON)
    assert world.person(CHILD) == moved and _newest(world, CHILD) == cancel_version
