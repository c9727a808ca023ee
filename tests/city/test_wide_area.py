"""Wide-area certificates between two cities' stores, the network an in-memory fake (fast).

The real network is in tests/e2e/test_juki_services.py; here the rules of both
sides on SQLite and PostgreSQL: what the home city answers and never answers,
what the issuing city prints and counts, and one answer per request id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import Resident
from kofu.city.services.dashboard import dashboard
from kofu.city.services.events import apply_events
from kofu.city.services.seeding import seed_city
from kofu.city.services.wide_area import (
    answer_wide_area,
    issue_wide_area,
    wide_area_statistics,
)
from kofu.contracts.citylink import WideAreaAnswer, WideAreaRequest
from kofu.contracts.juki import IdentityReport
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, Refused
from stores import BACKENDS, fresh_store

FUKAYA, HANAMAKI = "112186", "032051"
AT = datetime(2026, 12, 1, 11, 0, tzinfo=JST)
CLOCK = FixedClock(AT)


class Network:
    """Juki and the home city, answered in this process (the real link is tested end to end)."""

    def __init__(self, engines: dict[str, Engine]) -> None:
        self.engines = engines
        self.asked = 0

    def whereabouts(self, resident_code: str) -> IdentityReport:
        for code, engine in self.engines.items():
            with CityUnitOfWork(engine, today=AT.date()) as uow:
                person = uow.registers.resident(resident_code)
            if person is not None:
                return IdentityReport(
                    resident_code=person.resident_code,
                    individual_number=person.individual_number,
                    name=person.name,
                    birth_date=person.birth_date,
                    sex=person.sex.value,
                    address=person.address.text,
                    city=code,
                    state="resident" if person.is_resident else "moved_out",
                    version=1,
                    since=AT.date(),
                )
        raise AssertionError(f"nobody {resident_code}")

    def wide_area(self, home_city: str, request: WideAreaRequest) -> WideAreaAnswer:
        self.asked += 1
        uow = CityUnitOfWork(self.engines[home_city], today=AT.date())
        return answer_wide_area(uow=uow, code=home_city, clock=CLOCK, request=request)


@pytest.fixture(scope="module", params=BACKENDS)
def engines(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Engine]]:
    folder: Path = tmp_path_factory.mktemp("wide")
    with (
        fresh_store(request.param, folder, f"city_{FUKAYA}") as fukaya,
        fresh_store(request.param, folder, f"city_{HANAMAKI}") as hanamaki,
    ):
        for code, engine, seed in ((FUKAYA, fukaya, 5), (HANAMAKI, hanamaki, 6)):
            seed_city(engine=engine, code=code, residents=80, seed=seed, today=date(2026, 10, 1))
        yield {FUKAYA: fukaya, HANAMAKI: hanamaki}


def _household(engines: dict[str, Engine], index: int) -> list[Resident]:
    with CityUnitOfWork(engines[HANAMAKI], today=AT.date()) as uow:
        people = [p for p in uow.registers.residents() if p.foreign is None and p.domicile]
        houses: dict[str, list[Resident]] = {}
        for p in people:
            houses.setdefault(p.household_id, []).append(p)
    big = [h for h in houses.values() if len(h) >= 2]
    return big[index]


def _issue(engines: dict[str, Engine], network: Network, resident: str, rid: str, **kw: object):  # type: ignore[no-untyped-def]
    return issue_wide_area(
        uow=CityUnitOfWork(engines[FUKAYA], today=AT.date()),
        code=FUKAYA,
        clock=CLOCK,
        network=network,
        request_id=rid,
        resident=resident,
        id_check="licence",
        fee=200,
        **kw,
    )


def test_the_home_city_answers_no_domicile_and_the_issuing_city_prints_and_counts(
    engines: dict[str, Engine],
) -> None:
    network = Network(engines)
    house = _household(engines, 0)
    done = _issue(engines, network, house[0].resident_code, "wa-unit-00001", household="all",
                  items=["head", "individual_number"])  # fmt: skip
    assert set(done.certificate.subjects) == {p.resident_code for p in house}
    assert done.fee == 200 and not done.reprint and done.home_city == HANAMAKI
    with CityUnitOfWork(engines[HANAMAKI], today=AT.date()) as uow:
        kept = uow.citylink.wide_area("wa-unit-00001", "home")
    assert kept is not None
    text = str(kept.answer)
    assert all(p.domicile not in text for p in house if p.domicile)  # 本籍 never leaves the city
    assert "domicile" not in text and house[0].individual_number in text
    again = _issue(engines, network, house[0].resident_code, "wa-unit-00001", household="all",
                   items=["head", "individual_number"])  # fmt: skip
    assert again.reprint and again.certificate.issue_number == done.certificate.issue_number
    for code, role in ((FUKAYA, "issuing"), (HANAMAKI, "home")):
        rows = wide_area_statistics(
            uow=CityUnitOfWork(engines[code]), since=AT.date(), until=AT.date()
        )
        assert {"role": role, "issuing_city": FUKAYA, "home_city": HANAMAKI, "count": 1} in rows


def test_what_is_never_asked_and_one_id_for_one_request(engines: dict[str, Engine]) -> None:
    network = Network(engines)
    house = _household(engines, 1)
    for items in (["domicile"], ["foreign"], ["colour"]):
        with pytest.raises(InvalidInput):
            _issue(engines, network, house[0].resident_code, "wa-unit-00002", items=items)
    assert network.asked == 0  # refused at the issuing counter, nobody asked
    bare = WideAreaRequest(
        request_id="wa-unit-00003",
        issuing_city=FUKAYA,
        resident=house[0].resident_code,
        id_check="card",
        household="members",
    )
    with pytest.raises(InvalidInput):
        network.wide_area(HANAMAKI, bare)
    _issue(engines, network, house[0].resident_code, "wa-unit-00004")
    with pytest.raises(Conflict):
        _issue(engines, network, house[0].resident_code, "wa-unit-00004", household="all")
    with pytest.raises(InvalidInput, match="lives in this city"):
        with CityUnitOfWork(engines[FUKAYA], today=AT.date()) as uow:
            local = uow.registers.residents(limit=1)[0]
        _issue(engines, network, local.resident_code, "wa-unit-00005")


def test_a_blocked_person_is_refused_with_the_neutral_code(engines: dict[str, Engine]) -> None:
    network = Network(engines)
    person = _household(engines, 2)[0]
    apply_events(
        uow=CityUnitOfWork(engines[HANAMAKI]),
        events=[
            {
                "kind": "issuance_block",
                "resident": person.resident_code,
                "effective": "2026-11-30",
                "reason": "調査中",
            }
        ],
        clock=CLOCK,
    )
    with pytest.raises(Refused) as refused:
        _issue(engines, network, person.resident_code, "wa-unit-00006")
    assert refused.value.reason == "wide_area_refused"
    assert "block" not in refused.value.message and "抑止" not in (refused.value.message_ja or "")
    with pytest.raises(Refused) as again:  # the same refusal for the same id, asked once only
        _issue(engines, network, person.resident_code, "wa-unit-00006")
    assert again.value.reason == "wide_area_refused" and network.asked == 1
    view = dashboard(uow=CityUnitOfWork(engines[FUKAYA]), clock=CLOCK)
    assert view["counter_refusals"] == {"wide_area_refused": {"2026-12": 1}}  # counted once
