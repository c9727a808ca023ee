"""誤記修正, 性別の変更 and 旧氏 (jyuki-stnd 4.2.3.3, 1.1.7): each kept in the 統合記載欄.

A correction puts a wrongly written item right and the history shows both;
a change of 性別 is written as such; a 旧氏 prints under the name until removed.
"""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import Conflict, InvalidInput

PERSON = code("9900120001")
ON = {"resident": PERSON, "effective": DAY.isoformat()}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    world = World(seeded_engine)
    world.move_in(PERSON, "甲斐　花于", "1980-01-01", "female")
    return world


def test_a_correction_changes_the_items_and_keeps_what_was_written(world: World) -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        world.apply({"kind": "correction", **ON, "reason": "誤記"})
    world.apply(
        {
            "kind": "correction",
            **ON,
            "reason": "届書の誤記",
            "name": "甲斐　花子",
            "birth_date": "1980-01-10",
        }
    )
    person = world.person(PERSON)
    assert person.name == "甲斐　花子" and person.birth_date.day == 10
    text = pdf_text(issue(world, PERSON, history=True).pdf)
    assert (
        "誤記修正令和8年12月1日氏名甲斐花于→甲斐花子生年月日昭和55年1月1日→昭和55年1月10日" in text
    )


def test_sex_change_and_former_surname_are_written(world: World) -> None:
    world.apply({"kind": "sex_change", **ON, "sex": "male"})
    with pytest.raises(Conflict):
        world.apply({"kind": "sex_change", **ON, "sex": "male"})
    world.apply({"kind": "former_surname", **ON, "former_surname": "山梨"})
    text = pdf_text(issue(world, PERSON, history=True).pdf)
    assert "旧氏山梨" in text and "男" in text
    assert "旧氏の記載令和8年12月1日旧氏山梨" in text
    assert "性別の変更" not in text  # special history: only when asked for (1.1.4)
    text = pdf_text(issue(world, PERSON, history=True, special=True).pdf)
    assert "性別の変更令和8年12月1日" in text
    world.apply({"kind": "former_surname", **ON})
    assert world.person(PERSON).former_surname is None
    with pytest.raises(Conflict, match="旧氏"):
        world.apply({"kind": "former_surname", **ON})


def test_a_special_adoption_writes_the_child_as_the_adopters_own(world: World) -> None:
    """特別養子縁組: 子 in the household, 長男/長女 in the register, the words in the history."""
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
    child = code("9900120002")
    world.move_in(child, "山梨　翔", "2020-02-02", "male", "同居人", adopter.household_id)
    adoption = {"kind": "special_adoption", "effective": DAY.isoformat()}
    world.apply(adoption | {"resident": child, "adopter": adopter.resident_code})
    adopted = world.person(child)
    assert (adopted.relationship, adopted.family_register_id) == ("子", adopter.family_register_id)
    with world.uow() as uow:
        register = uow.registers.family_register(adopter.family_register_id or "")
    assert register is not None
    member = register.member_for(child)
    assert member is not None and member.relationship.endswith("男")
    assert member.entries[-1].kind == "特別養子縁組"
    assert adopted.name == f"{adopter.family_name}　翔" and adopted.name_history == ("山梨　翔",)
    text = pdf_text(issue(world, child, history=True).pdf)
    assert "特別養子縁組" not in text and "山梨" not in text and "同居人" not in text
    text = pdf_text(issue(world, child, history=True, special=True).pdf)
    assert "特別養子縁組令和8年12月1日旧氏名山梨翔" in text
    with pytest.raises(InvalidInput, match="under 15"):
        world.apply(adoption | {"resident": adopter.resident_code, "adopter": child})
