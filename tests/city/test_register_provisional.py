"""仮登録 and 本登録 (jyuki-stnd 4.0.8): a change entered is on no record until approved.

While provisional it is in no history, on no certificate, sent to no other
system; approval applies it as an event (checked again then), all or none;
a withdrawn entry is never applied.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest
from register_world import DAY, World, code, issue, pdf_text
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.city.services.provisional import (
    enter_provisionally,
    list_entries,
    register_entries,
    withdraw_entry,
)
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, NotFound

PERSON = code("9900900001")
CLOCK = FixedClock(datetime.combine(DAY, time(10), JST))


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    w.move_in(PERSON, "甲斐　一郎", "1970-04-01", "male")
    return w


def _move(world: World, block: str) -> dict[str, Any]:
    return {
        "kind": "move_within",
        "resident": PERSON,
        "effective": DAY.isoformat(),
        "address": {"town": world.town, "block": block},
    }


def _outbox_size(world: World) -> int:
    with world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.juki_outbox)).scalar_one())


def test_a_provisional_change_is_on_no_record_until_registered(world: World) -> None:
    sent = _outbox_size(world)
    [entry] = enter_provisionally(
        uow=world.uow(), events=[_move(world, "9番地")], clock=CLOCK, staff="k-0042"
    )
    assert entry.state == "pending" and entry.entered_by == "k-0042"
    assert world.person(PERSON).address.block == "1番地"
    with world.uow() as uow:
        assert [v.kind for v in uow.registers.history(PERSON)] == ["move_in"]
    assert "9番地" not in pdf_text(issue(world, PERSON, history=True).pdf)
    assert _outbox_size(world) == sent  # no other system heard of it
    pending = list_entries(uow=world.uow(), resident_code=PERSON)
    assert [e.entry_id for e in pending] == [entry.entry_id]
    changes = register_entries(
        uow=world.uow(), entry_ids=[entry.entry_id], clock=CLOCK, staff="s-0001"
    )
    assert [c.kind for c in changes] == ["move_within"]
    assert world.person(PERSON).address.block == "9番地"
    assert list_entries(uow=world.uow()) == []
    [done] = list_entries(uow=world.uow(), state="registered")
    assert done.decided_by == "s-0001"
    with pytest.raises(Conflict, match="already registered"):
        register_entries(uow=world.uow(), entry_ids=[entry.entry_id], clock=CLOCK)


def test_an_entry_that_would_not_apply_is_not_kept(world: World) -> None:
    death = {"kind": "death", "resident": PERSON, "effective": DAY.isoformat()}
    with pytest.raises(Conflict, match=r"event 2: .*nothing was entered"):
        enter_provisionally(uow=world.uow(), events=[death, _move(world, "9番地")], clock=CLOCK)
    assert world.person(PERSON).is_resident  # the check applied nothing
    bad_town = _move(world, "9番地") | {"address": {"town": "無い町", "block": "1番地"}}
    with pytest.raises(InvalidInput, match="not a town"):
        enter_provisionally(uow=world.uow(), events=[bad_town], clock=CLOCK)
    assert list_entries(uow=world.uow(), state=None) == []


def test_a_withdrawn_entry_is_never_applied(world: World) -> None:
    [entry] = enter_provisionally(uow=world.uow(), events=[_move(world, "9番地")], clock=CLOCK)
    withdrawn = withdraw_entry(uow=world.uow(), entry_id=entry.entry_id, clock=CLOCK)
    assert withdrawn.state == "withdrawn"
    with pytest.raises(Conflict, match="withdrawn"):
        register_entries(uow=world.uow(), entry_ids=[entry.entry_id], clock=CLOCK)
    with pytest.raises(NotFound):
        withdraw_entry(uow=world.uow(), entry_id="PE99999999", clock=CLOCK)
    assert world.person(PERSON).address.block == "1番地"


def test_registration_checks_again_and_is_all_or_none(world: World) -> None:
    first, second = enter_provisionally(
        uow=world.uow(),
        events=[
            _move(world, "9番地"),
            {"kind": "death", "resident": PERSON} | {"effective": DAY.isoformat()},
        ],
        clock=CLOCK,
    )
    world.apply({"kind": "death", "resident": PERSON, "effective": DAY.isoformat()})
    with pytest.raises(Conflict, match=f"entry {first.entry_id}: .*no entry was registered"):
        register_entries(uow=world.uow(), entry_ids=[first.entry_id, second.entry_id], clock=CLOCK)
    assert len(list_entries(uow=world.uow())) == 2
