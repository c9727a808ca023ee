"""`kofu bench chaos`, CI-sized: kiosks issue while each kind of service is killed once and one
is frozen; afterwards nothing confirmed is lost, nothing is charged twice, nobody gets another's
certificate.  Real processes over mTLS on free ports.

It runs on PostgreSQL, the production store, where one of the services' server
connections is ended as well; on SQLite when no server answers (no connection
to end then)."""

from __future__ import annotations

from typing import Any

import pytest

from kofu.bench.chaos import DATABASE, KINDS, bench_chaos, schedule
from stores import POSTGRES_URL, postgres_unreachable

SEED = 7
SECONDS = 10


def test_the_schedule_kills_each_kind_once_and_freezes_one_the_same_for_a_seed() -> None:
    events = schedule(SEED, 30)
    kills = sorted(e.service for e in events if e.action == "kill")
    frozen = [e for e in events if e.action == "freeze"]
    assert kills == sorted(KINDS)
    assert len(frozen) == 1 and frozen[0].service in KINDS and frozen[0].hold > 0
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert events[-1].at < 30 * 0.7  # the kiosks still issue after the last blow
    assert schedule(SEED, 30) == events
    assert schedule(SEED + 1, 30) != events


def test_on_postgresql_a_connection_is_ended_too_and_a_soak_deals_every_round() -> None:
    events = schedule(SEED, 30, database=True, rounds=3)
    for round_ in range(3):
        dealt = [e for e in events if round_ * 30 <= e.at < (round_ + 1) * 30]
        assert sorted(e.service for e in dealt if e.action == "kill") == sorted([*KINDS, DATABASE])
        assert [e.action for e in dealt].count("freeze") == 1
        assert all(e.service != DATABASE for e in dealt if e.action == "freeze")
    assert [e.at for e in events] == sorted(e.at for e in events)


@pytest.fixture(scope="module")
def run() -> dict[str, Any]:
    url = None if postgres_unreachable() else POSTGRES_URL
    return bench_chaos(kiosks=2, requests=500, seconds=SECONDS, seed=SEED, database_url=url)


@pytest.mark.slow
def test_every_kind_was_killed_and_came_back(run: dict[str, Any]) -> None:
    on_postgres = run["store"] == "postgresql"
    done = [(e["action"], e["service"]) for e in run["events"]]
    assert done == [(e.action, e.service) for e in schedule(SEED, SECONDS, database=on_postgres)]
    assert all(e["under_load"] for e in run["events"])  # each blow fell while kiosks issued
    kinds = [*KINDS, DATABASE] if on_postgres else KINDS
    assert all(run["restarts"][kind] >= 1 for kind in kinds), run["supervisor_log"]
    assert all(e["pid"] > 0 for e in run["events"])  # a connection was there to end


@pytest.mark.slow
def test_nothing_confirmed_was_lost_charged_twice_or_mis_issued(run: dict[str, Any]) -> None:
    assert run["confirmed"] >= 1  # the kiosks got certificates through the chaos
    assert run["lost"] == 0
    assert run["charged_twice"] == 0
    assert run["mis_issued"] == 0
    assert run["charged"] == run["center"].get("printed", 0)
    assert set(run["center"]) <= {"requested", "rendered", "printed", "voided"}


@pytest.mark.slow
def test_every_issuance_ended_and_every_city_certificate_is_accounted_for(
    run: dict[str, Any],
) -> None:
    """A request a killed center left open is recovered from the city; nothing stays pending."""
    assert run["stuck"] == 0, run["center"]
    assert run["unaccounted"] == 0
    assert run["charged_unconfirmed"] == 0  # a lost confirmation answer is asked again
