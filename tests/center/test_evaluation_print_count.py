"""A store print confirmed at the center reaches the city's activity log within a second."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from center_world import InProcessCity, center_for, make_world, sign_in
from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.contracts.store import IssueOptions, PrintsRecorded, StorePrints
from kofu.core.errors import Refused


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_world(tmp_path_factory.mktemp("print_count"))


def _store_counts(engine: Engine) -> list[tuple[Any, ...]]:
    d = t.activity_daily
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(d.c.day, d.c.doc_type, d.c.n, d.c.copies, d.c.fee_yen).where(
                    d.c.kind == "certificate.issued", d.c.channel == "store"
                )
            )
        ]


def _request(center: Any, world: dict[str, Any], request_id: str) -> Any:
    return center.request(
        session=sign_in(center, world),
        request_id=request_id,
        certificate="juminhyo",
        options=IssueOptions(),
        copies=2,
        store="7-0001",
        chain="seven",
    )


def test_a_confirmed_print_counts_within_a_second_and_once(world: dict[str, Any]) -> None:
    center = center_for(world)
    _request(center, world, "store-eval-000001")
    assert _store_counts(world["city"]) == []  # rendered, not yet printed: nothing counts
    center.printed("store-eval-000001")
    deadline = time.monotonic() + 1.0
    while not _store_counts(world["city"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _store_counts(world["city"]) == [(date(2026, 11, 24), "juminhyo", 1, 2, 400)]
    center.printed("store-eval-000001")  # confirmed again: still counted once
    time.sleep(0.3)
    assert _store_counts(world["city"]) == [(date(2026, 11, 24), "juminhyo", 1, 2, 400)]


def test_a_voided_print_never_counts(world: dict[str, Any], tmp_path: Path) -> None:
    center = center_for(world)
    before = _store_counts(world["city"])
    _request(center, world, "store-eval-000002")
    center.voided("store-eval-000002", "paper jam")
    time.sleep(0.3)
    assert _store_counts(world["city"]) == before


class DeafCity(InProcessCity):
    """A city that is down when the print is confirmed (its certificate server answers nothing)."""

    down = True

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        if DeafCity.down:
            raise Refused("city_unavailable", "the city does not answer")
        return super().printed_many(city, prints)


def test_a_print_the_city_did_not_hear_counts_at_the_next_sweep_once(
    world: dict[str, Any],
) -> None:
    center = center_for(world, DeafCity)
    before = _store_counts(world["city"])
    _request(center, world, "store-eval-000003")
    center.printed("store-eval-000003")
    time.sleep(0.3)
    assert _store_counts(world["city"]) == before  # the city was down: not counted yet …
    assert center.tell_cities() == 0  # … nor while it stays down
    DeafCity.down = False
    assert center.tell_cities() == 1  # back: the sweep tells it
    assert center.tell_cities() == 0  # and never twice
    after = _store_counts(world["city"])
    assert sum(row[2] for row in after) == sum(row[2] for row in before) + 1


class CountingCity(InProcessCity):
    """The city, counting the messages the center sends it about prints."""

    messages: ClassVar[list[int]] = []

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        CountingCity.messages.append(len(prints.prints))
        return super().printed_many(city, prints)


def test_prints_confirmed_together_reach_the_city_in_one_message(world: dict[str, Any]) -> None:
    """Three prints confirmed within the moment: one message, each counted once, none lost."""
    asked: list[Any] = []  # what a serving center's ``later`` would run a moment later
    center = center_for(world, CountingCity)
    center.later = asked.append
    before = _store_counts(world["city"])
    ids = [f"store-eval-batch-{n:02d}" for n in range(3)]
    for request_id in ids:
        _request(center, world, request_id)
        center.printed(request_id)
    assert _store_counts(world["city"]) == before  # not yet told: the notice is still due
    assert asked and all(work == center.tell_cities for work in asked)
    CountingCity.messages.clear()
    assert asked[0]() == 3
    assert CountingCity.messages == [3]  # one exchange for the three
    assert center.tell_cities() == 0 and CountingCity.messages == [3]  # nothing is told twice
    after = _store_counts(world["city"])
    assert sum(row[2] for row in after) == sum(row[2] for row in before) + 3


def test_a_coalesced_job_runs_once_for_many_asks_and_again_when_asked_later() -> None:
    """``in_background``'s rule: asked many times within its delay, the job runs once."""
    from kofu.center.services.issuance import Coalesced

    runs: list[float] = []
    later = Coalesced(delay=0.05)

    def job() -> None:
        runs.append(time.monotonic())

    for _ in range(20):
        later(job)
    deadline = time.monotonic() + 5
    while not runs and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(runs) == 1
    later(job)  # asked after it ran: it runs again
    deadline = time.monotonic() + 5
    while len(runs) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(runs) == 2
