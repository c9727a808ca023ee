"""One provisional entry (仮登録) registered twice at once: applied once, the other gets 409."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime, time
from typing import Any

import pytest
from register_world import DAY, World, code
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.city.services import provisional
from kofu.city.services.provisional import enter_provisionally, register_entries
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import KofuError

PERSON = code("9900900001")
CLOCK = FixedClock(datetime.combine(DAY, time(10), JST))


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    w.move_in(PERSON, "甲斐　一郎", "1970-04-01", "male")
    return w


SEAL = {"kind": "seal_register", "resident": PERSON, "effective": DAY.isoformat()}
RENAME = {
    "kind": "name_change",
    "resident": PERSON,
    "effective": DAY.isoformat(),
    "name": "甲斐　二郎",
    "kana": "カイ　ジロウ",
}


@pytest.mark.parametrize("event", [RENAME, SEAL], ids=["name_change", "seal_register"])
def test_an_entry_registered_twice_at_once_is_applied_once(
    world: World, monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]
) -> None:
    """Both clerks read the entry as pending before either writes: once, and a 409 to the other."""
    [entry] = enter_provisionally(uow=world.uow(), events=[event], clock=CLOCK)
    both_read = threading.Barrier(2, timeout=10)
    read = provisional._entry

    def entry_then_wait(uow: Any, entry_id: str) -> Any:
        found = read(uow, entry_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return found

    monkeypatch.setattr(provisional, "_entry", entry_then_wait)
    outcomes: list[object] = []

    def clerk() -> None:
        try:
            outcomes.append(
                register_entries(uow=world.uow(), entry_ids=[entry.entry_id], clock=CLOCK)
            )
        except KofuError as exc:
            outcomes.append(exc)
        except Exception as exc:  # a database error is a 5xx, but still not a double apply
            outcomes.append(exc)

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    with world.uow() as uow:
        kinds = [v.kind for v in uow.registers.history(PERSON)]
    assert kinds.count("name_change") <= 1, (kinds, outcomes)  # holds: the version key
    with world.engine.connect() as conn:
        seals = conn.execute(
            select(func.count())
            .select_from(t.seals)
            .where(t.seals.c.resident_code == PERSON, t.seals.c.active.is_(True))
        ).scalar_one()
    assert seals <= 1, (seals, outcomes)  # one person, one registered seal
    assert sum(isinstance(o, list) for o in outcomes) == 1, outcomes
    # the second clerk should hear 'already registered' (409), not a database error (500)
    assert all(isinstance(o, (list, KofuError)) for o in outcomes), outcomes
