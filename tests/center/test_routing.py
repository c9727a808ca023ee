"""The center routes by juki: to the city that holds the holder's record now, or a clear refusal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from center_world import CITY, NOON, InProcessCity, center_for, make_world, sign_in

from kofu.center.adapters import tables as ct
from kofu.center.services.issuance import CenterService
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.events import apply_events
from kofu.city.services.juki_feed import report_to_juki
from kofu.contracts.juki import IdentityReport, ReportCounts
from kofu.contracts.store import IssueOptions
from kofu.core.errors import Refused
from kofu.juki.adapters.uow import juki_units
from kofu.juki.services.directory import JukiDirectory
from stores import BACKENDS, fresh_store


class FedJuki:
    """juki's real service in-process, fed by the city's real report."""

    def __init__(self, directory: JukiDirectory) -> None:
        self.directory = directory

    def report(self, city: str, records: Sequence[IdentityReport]) -> ReportCounts:
        sent = [r.model_dump(mode="json", exclude={"v"}) for r in records]
        return ReportCounts.model_validate(self.directory.receive(city, sent))

    def store_id(self) -> str:
        return self.directory.store_id()

    def whereabouts(self, resident_code: str) -> IdentityReport:
        return IdentityReport.model_validate(self.directory.whereabouts(resident_code))


@pytest.fixture(params=BACKENDS)
def routed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with fresh_store(request.param, tmp_path, "juki") as juki_engine:
        world = make_world(tmp_path)
        world["juki"] = FedJuki(JukiDirectory(juki_units(juki_engine), NOON))
        yield world


def _center(world: dict[str, Any]) -> CenterService:
    plain = center_for(world)
    return CenterService(
        plain.units,
        NOON,
        plain.signer,
        plain.issuer,
        plain.directory,
        InProcessCity(world["city"]),
        juki=world["juki"],
    )


def _feed(world: dict[str, Any]) -> None:
    uow = CityUnitOfWork(world["city"], today=NOON.today())
    report_to_juki(uow=uow, juki=world["juki"], clock=NOON)


def _ask(center: CenterService, world: dict[str, Any], request_id: str) -> Any:
    return center.request(
        session=sign_in(center, world),
        request_id=request_id,
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="7-0001",
        chain="seven",
    )


def test_the_city_juki_names_issues(routed: dict[str, Any]) -> None:
    _feed(routed)
    job = _ask(_center(routed), routed, "route-0001")
    assert job.city == CITY and job.state == "rendered"


def test_a_holder_juki_never_heard_of_is_refused_with_a_reason(routed: dict[str, Any]) -> None:
    center = _center(routed)
    with pytest.raises(Refused) as info:
        _ask(center, routed, "route-0002")
    assert info.value.reason == "record_unknown"
    assert "住民登録" in info.value.message_ja
    with routed["center"].connect() as conn:  # refused before anything was logged or charged
        assert conn.execute(ct.issuances.select()).first() is None


def test_a_holder_who_moved_out_is_refused_before_any_city_is_asked(
    routed: dict[str, Any],
) -> None:
    holder = routed["holder"]
    move_out = {
        "kind": "move_out",
        "resident": holder.resident_code,
        "effective": NOON.today().isoformat(),
        "destination": {"prefecture": "東京都", "city": "豊島区", "town": "南池袋1丁目"},
    }
    apply_events(uow=CityUnitOfWork(routed["city"]), events=[move_out], clock=NOON)
    _feed(routed)
    with pytest.raises(Refused) as info:
        _ask(_center(routed), routed, "route-0003")
    assert info.value.reason == "record_moved_out"
    assert "転出" in info.value.message_ja
