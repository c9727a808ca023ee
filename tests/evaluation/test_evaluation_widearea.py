"""A wide-area residence certificate (広域住民票) counts where issued and at the home city."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.seeding import seed_city
from kofu.city.services.wide_area import answer_wide_area, issue_wide_area
from kofu.contracts.citylink import WideAreaAnswer, WideAreaRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.evaluation.services.sheets import indicators

CLOCK = FixedClock(datetime(2026, 12, 7, 10, 0, tzinfo=JST))


def _city(tmp_path: Path, code: str, seed: int) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / code}.sqlite")
    migrate(engine, "city")
    seed_city(engine=engine, code=code, residents=60, seed=seed, today=date(2026, 12, 7))
    return engine


class _Network:
    """juki and the home city, in-process: the person lives in Hanamaki."""

    def __init__(self, home: Engine) -> None:
        self.home = home

    def whereabouts(self, resident_code: str) -> Any:
        return SimpleNamespace(state="resident", city="032051")

    def wide_area(self, home_city: str, request: WideAreaRequest) -> WideAreaAnswer:
        uow = CityUnitOfWork(self.home)
        return answer_wide_area(uow=uow, code=home_city, clock=CLOCK, request=request)


def test_a_wide_area_certificate_counts_at_both_cities(tmp_path: Path) -> None:
    issuing, home = _city(tmp_path, "112186", 4), _city(tmp_path, "032051", 3)
    with CityUnitOfWork(home, today=CLOCK.today()) as uow:
        person = uow.registers.sample_holder()
    assert person is not None
    for _ in range(2):  # a retry under the same request id is the same issuance: counted once
        issue_wide_area(
            uow=CityUnitOfWork(issuing),
            code="112186",
            clock=CLOCK,
            network=_Network(home),
            request_id="W" * 20,
            resident=person.resident_code,
            id_check="card",
        )
    here = {
        i["id"]: i for i in indicators(issuing, tmp_path, "112186", "16231", 2026)["indicators"]
    }
    there = {i["id"]: i for i in indicators(home, tmp_path, "032051", "124750", 2026)["indicators"]}
    assert here["IND-03"]["value"] == 1 and here["OPT-13"]["value"] == 0
    assert there["OPT-13"]["value"] == 1 and there["IND-03"]["value"] == 0
    assert here["IND-07"]["value"] == 1  # and one of the year's certificates, every channel
