"""支援措置 as the standard has it (jyuki-stnd 3.4, 1.1.16).

The measure names its 申出者, 併せて支援を求める者 (protected too) and 加害者;
a provisional measure may name the city that first accepted it; its state is
explicit; the end date can be corrected; the 支援措置責任者 may release one
counter request (never the store); a move-out keeps the measure as the former
address's 仮支援措置; alerts come a month before the end and after it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from register_world import DAY, World, code, family, issue
from sqlalchemy import Engine

from kofu.city.services.queries import show_resident
from kofu.core.errors import Refused

VICTIM, CHILD = code("9900080001"), code("9900080002")
ON = {"resident": VICTIM, "effective": DAY.isoformat()}
START = {
    "kind": "support_measure",
    **ON,
    "joint": [CHILD],
    "offenders": [{"name": "加害　太郎", "birth_date": "1970-01-01"}],
}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    world = World(seeded_engine)
    family(
        world,
        (VICTIM, "甲斐　花子", "1980-05-02", "female", "世帯主"),
        (CHILD, "甲斐　桃子", "2015-03-03", "female", "子"),
    )
    return world


def _measure(world: World, code_: str) -> dict[str, object]:
    [measure] = show_resident(uow=world.uow(), resident_code=code_, as_of=None)["support_measures"]
    return measure


def test_the_joint_person_is_protected_and_the_parties_are_kept(world: World) -> None:
    world.apply(START)
    main, joint = _measure(world, VICTIM), _measure(world, CHILD)
    assert main["applicant"] == VICTIM and main["joint_with"] == [CHILD]
    assert main["offenders"] == [
        {"name": "加害　太郎", "birth_date": "1970-01-01", "resident_code": None}
    ]
    assert main["state"] == "支援措置期間中" and main["end"] == "2027-11-30"
    assert joint["joint_of"] == VICTIM
    with pytest.raises(Refused) as refused:
        issue(world, CHILD)
    assert refused.value.reason == "support_measure"


def test_the_officer_releases_her_own_copy_at_the_counter_only(world: World) -> None:
    world.apply(START)
    with pytest.raises(Refused):
        issue(world, VICTIM)
    world.apply(
        {
            "kind": "support_measure_override",
            **ON,
            "officer": "s-001",
            "until": "2026-12-01T17:00:00+09:00",
        }
    )
    assert issue(world, VICTIM).pages == 1  # her own copy, after review
    with pytest.raises(Refused):
        issue(world, VICTIM, household="all")  # the child's measure was not released
    with pytest.raises(Refused):
        issue(world, VICTIM, channel="store")


def test_the_end_is_corrected_and_alerts_come_before_and_after_it(world: World) -> None:
    world.apply(START | {"kind": "support_measure", "provisional": True, "initial_city": "甲府市"})
    assert _measure(world, VICTIM)["state"] == "仮支援措置中"
    end = DAY + timedelta(days=20)
    world.apply({"kind": "support_measure_correct", **ON, "end": end.isoformat()})
    assert _measure(world, VICTIM)["end"] == _measure(world, CHILD)["end"] == end.isoformat()
    alerts = show_resident(uow=world.uow(), resident_code=VICTIM, as_of=None)["alerts"]
    assert any("終了間近" in a for a in alerts)
    world.today = end + timedelta(days=1)
    assert _measure(world, VICTIM)["state"] == "期間満了"
    alerts = show_resident(uow=world.uow(), resident_code=VICTIM, as_of=None)["alerts"]
    assert any("期間満了" in a for a in alerts)


def test_a_move_out_keeps_the_measure_as_the_former_address(world: World) -> None:
    world.apply(START)
    world.apply(
        {
            "kind": "move_out",
            **ON,
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        }
    )
    measure = _measure(world, VICTIM)
    assert (measure["provisional"], measure["basis"]) == (True, "前住所地")
    assert measure["state"] == "仮支援措置中"
    with pytest.raises(Refused):
        issue(world, VICTIM, "johyo")
    assert date.fromisoformat(str(measure["end"])) > DAY
