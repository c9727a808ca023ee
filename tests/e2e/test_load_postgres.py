"""``kofu bench issuance --database-url``: a small run on PostgreSQL, its schemas gone after."""

from __future__ import annotations

import psycopg
import pytest

from kofu.bench.issuance import bench_issuance
from stores import POSTGRES_URL, postgres_unreachable

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _bench_schemas() -> set[str]:
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {name for (name,) in rows if name.startswith("kofu_bench_")}


def test_a_run_on_postgresql_counts_the_server_and_leaves_no_schema() -> None:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    before = _bench_schemas()
    run = bench_issuance(kiosks=2, requests=10, seconds=120, database_url=POSTGRES_URL)
    assert run["store"] == "postgresql"
    assert run["issuances"] == 10 and run["mis_issuances"] == 0 and run["errors"] == []
    cpu = run["cpu_ms_per_issuance"]
    assert cpu["database"] > 0 and cpu["center"] > 0 and cpu["city"] > 0
    assert cpu["all"] >= cpu["database"] + cpu["center"] + cpu["city"] - 0.2  # rounding
    assert run["database_backends"] >= 4  # at least one connection of each service
    assert _bench_schemas() <= before  # this run's schemas are dropped
