"""異動の取消し (jyuki-stnd 4.6.0.1): a change made in error undone, both kept in the history.

The record as it stood before the change is written again as a new version;
a removal undone is （増）, an entry undone （減）, any other change （修正）.
Only the newest change is cancelled, and a head's removal with the 世帯主変更
or 世帯主不在 it caused for the others.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from register_world import DAY, MOVED_IN, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.domain.model import RemovalReason
from kofu.city.services.queries import show_resident
from kofu.core.errors import Conflict

HEAD, WIFE = code("9900500001"), code("9900500002")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}
ON = {"effective": DAY.isoformat(), "reason": "処理誤り"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    family(
        w,
        (HEAD, "甲斐　一郎", "1970-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1972-05-02", "female", "妻"),
    )
    return w


def _newest(world: World, resident: str) -> int:
    shown = show_resident(uow=world.uow(), resident_code=resident, as_of=None)
    return int(shown["history"][-1]["version"])


def _cancel(world: World, resident: str, **extra: Any) -> None:
    event = {"kind": "cancellation", "resident": resident, "version": _newest(world, resident)}
    world.apply(event | ON | extra)


def test_a_move_within_cancelled_restores_the_address_and_keeps_both_lines(world: World) -> None:
    before = world.person(HEAD).address
    move = {"kind": "move_within", "resident": HEAD, "effective": "2026-11-20"}
    world.apply(move | {"address": {"town": world.town, "block": "9番地"}})
    _cancel(world, HEAD)
    assert world.person(HEAD).address == before and world.person(WIFE).address != before
    text = pdf_text(issue(world, HEAD, history=True).pdf)
    assert "転居令和8年11月20日" in text
    assert "異動の取消し（修正）令和8年12月1日令和8年11月20日の転居を取消し（処理誤り）" in text
    kinds = [
        h["kind"] for h in show_resident(uow=world.uow(), resident_code=HEAD, as_of=None)["history"]
    ]
    assert kinds[-2:] == ["move_within", "cancellation"]


def test_a_death_cancelled_brings_the_person_and_the_seal_back(world: World) -> None:
    world.apply({"kind": "seal_register", "resident": WIFE, "effective": "2026-11-02"})
    world.apply({"kind": "death", "resident": WIFE, "effective": "2026-11-25"})
    assert not world.person(WIFE).is_resident
    _cancel(world, WIFE)
    wife = world.person(WIFE)
    assert wife.is_resident and wife.removal_reason is None
    with world.uow() as uow:
        seal = uow.registers.seal(WIFE)
    assert seal is not None and seal.active
    text = pdf_text(issue(world, WIFE, history=True).pdf)
    assert "異動の取消し（増）令和8年12月1日令和8年11月25日の死亡を取消し" in text


def test_a_move_in_cancelled_leaves_a_removed_record(world: World) -> None:
    newcomer = code("9900500003")
    world.move_in(newcomer, "山梨　三郎", "1990-01-01", "male")
    _cancel(world, newcomer)
    gone = world.person(newcomer)
    assert not gone.is_resident and gone.removal_reason is RemovalReason.CANCELLED
    assert gone.removed_on == MOVED_IN
    text = pdf_text(issue(world, newcomer, type="johyo", history=True).pdf)
    assert "消除事由異動の取消し令和8年11月1日" in text
    assert "異動の取消し（減）令和8年12月1日令和8年11月1日の転入を取消し" in text


def test_a_planned_move_out_cancelled_never_happens(world: World) -> None:
    planned = {"kind": "move_out", "effective": "2026-12-20", "destination": OSAKA}
    world.apply(planned | {"resident": WIFE})
    _cancel(world, WIFE)
    world.today = date(2026, 12, 21)
    with world.uow() as uow:
        wife = uow.registers.resident(WIFE)
    assert wife is not None and wife.is_resident and wife.planned_move_out is None
    text = pdf_text(issue(world, WIFE, history=True).pdf)
    assert "転出令和8年12月20日" not in text and "転出（予定）" not in text
    assert "異動の取消し（増）令和8年12月1日令和8年12月20日の転出を取消し" in text


def test_a_heads_move_out_is_cancelled_with_what_it_did_to_the_others(world: World) -> None:
    world.apply(
        {"kind": "move_out", "resident": HEAD, "effective": "2026-11-20", "destination": OSAKA}
    )
    assert world.person(WIFE).relationship == "世帯主"  # the one left became head
    with pytest.raises(Conflict, match="two heads"):
        _cancel(world, HEAD)
    assert not world.person(HEAD).is_resident  # refused: nothing changed
    _cancel(world, HEAD, members=[WIFE])
    head, wife = world.person(HEAD), world.person(WIFE)
    assert (head.relationship, wife.relationship) == ("世帯主", "妻")
    assert head.is_resident and head.household_id == wife.household_id


def test_only_the_newest_change_is_cancelled(world: World) -> None:
    world.apply(
        {
            "kind": "former_surname",
            "resident": HEAD,
            "effective": "2026-11-20",
            "former_surname": "山梨",
        }
    )
    older = _newest(world, HEAD) - 1
    with pytest.raises(Conflict, match="only the newest"):
        world.apply({"kind": "cancellation", "resident": HEAD, "version": older} | ON)
    marry = {
        "kind": "marriage",
        "resident": HEAD,
        "effective": DAY.isoformat(),
        "spouse": WIFE,
        "domicile": "埼玉県深谷市仲町1番",
    }
    world.apply(marry)
    with pytest.raises(Conflict, match="family register"):
        _cancel(world, HEAD)
    assert world.person(HEAD).former_surname == "山梨"
