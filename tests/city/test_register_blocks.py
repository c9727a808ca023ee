"""異動・発行・照会の抑止 (jyuki-stnd 3.1, 3.2): kinds, processes, households, levels, reach.

Each block has a kind and the processes it stops (異動, 照会, 証明); several
may stand at once; a household block covers every member; an alert-level
block lets the process go with a warning; listings flag blocked persons;
setting or releasing a block is queued for the Juki-net CS and the city's
other systems, a temporary release never.
"""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, family, issue
from sqlalchemy import Engine, select

from kofu.city.adapters import tables
from kofu.city.services.queries import list_residents, show_resident
from kofu.core.errors import Refused

HEAD, WIFE = code("9900090001"), code("9900090002")
ON = {"resident": HEAD, "effective": DAY.isoformat()}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    world = World(seeded_engine)
    family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻"),
    )
    return world


def _outbox(world: World) -> list[tuple[str, str]]:
    with world.engine.connect() as conn:
        rows = conn.execute(select(tables.outbox.c.target, tables.outbox.c.kind)).all()
    return [(r.target, r.kind) for r in rows if r.kind.startswith("issuance_block")]


def test_a_household_block_on_changes_and_inquiries(world: World) -> None:
    world.apply(
        {
            "kind": "issuance_block",
            **ON,
            "reason": "不正請求の疑い",
            "category": "本人確認",
            "processes": ["異動", "照会"],
            "household": True,
        }
    )
    for person in (HEAD, WIFE):
        with pytest.raises(Refused) as refused:
            show_resident(uow=world.uow(), resident_code=person, as_of=None)
        assert refused.value.reason == "inquiry_blocked"
    with pytest.raises(Refused, match="blocked"):
        world.apply({"kind": "name_change", **ON, "name": "甲斐　一朗", "kana": "カイ　イチロウ"})
    assert issue(world, WIFE).pages == 1  # certificates were not blocked
    listed = {r["resident_code"]: r["blocked"] for r in list_residents(uow=world.uow(), limit=None)}
    assert (
        listed[HEAD]
        and listed[WIFE]
        and not any(v for k, v in listed.items() if k not in (HEAD, WIFE))
    )
    assert _outbox(world).count(("juki_cs", "issuance_block")) == 2


def test_an_alert_level_block_issues_with_a_warning_and_several_stand(world: World) -> None:
    world.apply({"kind": "issuance_block", **ON, "reason": "確認中", "level": "alert"})
    issued = issue(world, HEAD)
    assert issued.pages == 1 and any("確認中" in w for w in issued.warnings)
    world.apply({"kind": "issuance_block", **ON, "reason": "差押え", "category": "裁判所"})
    with pytest.raises(Refused):
        issue(world, HEAD)
    world.apply({"kind": "issuance_block_release", **ON, "block_id": f"BL-{HEAD}-20261201-2"})
    assert issue(world, HEAD).warnings  # the alert still stands
    world.apply(
        {"kind": "issuance_block_temporary_release", **ON, "until": "2026-12-01T17:00:00+09:00"}
    )
    assert sorted(_outbox(world)) == sorted(  # the temporary release is not sent
        [
            ("juki_cs", "issuance_block"),
            ("atena", "issuance_block"),
            ("juki_cs", "issuance_block"),
            ("atena", "issuance_block"),
            ("juki_cs", "issuance_block_release"),
            ("atena", "issuance_block_release"),
        ]
    )
