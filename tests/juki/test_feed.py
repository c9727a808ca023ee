"""A city reports its register to juki: everything once, then only what changed, at least once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.events import apply_events
from kofu.city.services.juki_feed import report_to_juki
from kofu.city.services.seeding import seed_city
from kofu.contracts.juki import IdentityReport, ReportCounts
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Refused
from kofu.juki.adapters.uow import juki_units
from kofu.juki.services.directory import JukiDirectory
from stores import BACKENDS, fresh_store

CITY = "032051"
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=JST)


class InProcessJuki:
    """juki's real service called in-process, counting what it was sent."""

    def __init__(self, directory: JukiDirectory) -> None:
        self.directory, self.sent, self.down = directory, 0, False

    def report(self, city: str, records: Sequence[IdentityReport]) -> ReportCounts:
        if self.down:
            raise Refused("juki_unavailable", "juki could not take the report just now")
        self.sent += len(records)
        sent = [r.model_dump(mode="json", exclude={"v"}) for r in records]
        return ReportCounts.model_validate(self.directory.receive(city, sent))

    def store_id(self) -> str:
        if self.down:
            raise Refused("juki_unavailable", "juki could not answer just now")
        return self.directory.store_id()


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, InProcessJuki]]:
    with (
        fresh_store(request.param, tmp_path, f"city_{CITY}") as city,
        fresh_store(request.param, tmp_path, "juki") as juki,
    ):
        seed_city(engine=city, code=CITY, residents=120, seed=4, today=NOON.date())
        yield city, InProcessJuki(JukiDirectory(juki_units(juki), FixedClock(NOON)))


def _report(city: Any, juki: InProcessJuki, at: datetime = NOON) -> int:
    uow = CityUnitOfWork(city, today=at.date())
    result = report_to_juki(uow=uow, juki=juki, clock=FixedClock(at), batch=50)
    return result["reported"]


def _someone(city: Any) -> str:
    with CityUnitOfWork(city, today=NOON.date()) as uow:
        person = uow.registers.sample_holder()
    assert person is not None
    return person.resident_code


def test_every_record_once_then_only_changes(world: tuple[Any, InProcessJuki]) -> None:
    city, juki = world
    with CityUnitOfWork(city, today=NOON.date()) as uow:
        rows = uow.registers.count_residents()
    assert _report(city, juki) == rows
    assert juki.directory.count() == rows
    assert _report(city, juki) == 0  # nothing changed: nothing sent
    leaver = _someone(city)
    move_out = {
        "kind": "move_out",
        "resident": leaver,
        "effective": NOON.date().isoformat(),
        "destination": {"prefecture": "東京都", "city": "豊島区", "town": "南池袋1丁目"},
    }
    apply_events(uow=CityUnitOfWork(city), events=[move_out], clock=FixedClock(NOON))
    assert _report(city, juki) == 1
    held = juki.directory.whereabouts(leaver)
    assert (held["city"], held["state"], held["since"]) == (CITY, "moved_out", "2026-11-24")


def test_a_planned_move_out_is_reported_when_it_comes_due(
    world: tuple[Any, InProcessJuki],
) -> None:
    city, juki = world
    _report(city, juki)
    leaver, day = _someone(city), NOON.date() + timedelta(days=10)
    move_out = {
        "kind": "move_out",
        "resident": leaver,
        "effective": day.isoformat(),
        "notified": NOON.date().isoformat(),
        "destination": {"prefecture": "東京都", "city": "豊島区", "town": "南池袋1丁目"},
    }
    apply_events(uow=CityUnitOfWork(city), events=[move_out], clock=FixedClock(NOON))
    _report(city, juki)  # recorded today, not in effect yet: juki still sees a resident
    assert juki.directory.whereabouts(leaver)["state"] == "resident"
    later = datetime.combine(day, NOON.timetz())
    assert _report(city, juki, later) == 1
    assert juki.directory.whereabouts(leaver)["state"] == "moved_out"
    assert _report(city, juki, later) == 0


def test_a_report_juki_never_took_is_sent_again(world: tuple[Any, InProcessJuki]) -> None:
    city, juki = world
    juki.down = True
    with pytest.raises(Refused):
        _report(city, juki)
    assert juki.directory.count() == 0
    juki.down = False
    sent = _report(city, juki)
    assert sent > 0 and juki.directory.count() == sent


def test_a_resend_after_a_lost_answer_stores_nothing_twice(
    world: tuple[Any, InProcessJuki],
) -> None:
    """juki stored the batch but the city never heard: the bookmark is gone, the city resends."""
    city, juki = world
    sent = _report(city, juki)
    with city.begin() as conn:  # the city crashed before its bookmarks were written
        conn.execute(text("DELETE FROM juki_reported"))
    assert _report(city, juki) == sent
    assert juki.directory.count() == sent
    assert date.fromisoformat(juki.directory.whereabouts(_someone(city))["since"]) <= NOON.date()


def test_a_juki_store_restored_empty_gets_every_record_again(
    world: tuple[Any, InProcessJuki], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The city's bookmarks are about one store: juki's replacement hears everything anew."""
    city, juki = world
    sent = _report(city, juki)
    assert sent > 0 and _report(city, juki) == 0
    backend = request.node.callspec.params["world"]
    with fresh_store(backend, tmp_path, "juki_restored") as empty:
        restored = InProcessJuki(JukiDirectory(juki_units(empty), FixedClock(NOON)))
        assert restored.directory.store_id() != juki.directory.store_id()
        assert _report(city, restored) == sent
        assert restored.directory.count() == sent
        assert _report(city, restored) == 0
        leaver = _someone(city)
        assert restored.directory.whereabouts(leaver)["city"] == CITY
