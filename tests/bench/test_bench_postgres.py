"""The bench on PostgreSQL: throw-away schemas dropped, the server's CPU counted."""

from __future__ import annotations

import os
import secrets
import subprocess

import psycopg
import pytest
from typer.testing import CliRunner

from kofu.bench.postgres import BackendCpu
from kofu.cli.main import app
from kofu.core.db import drop_schemas
from stores import POSTGRES_URL, postgres_unreachable


@pytest.fixture
def postgres() -> str:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    return POSTGRES_URL


def _schemas(prefix: str) -> set[str]:
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {name for (name,) in rows if name.startswith(prefix)}


@pytest.mark.postgres
def test_drop_schemas_takes_only_the_runs_own(postgres: str) -> None:
    run, other = f"t_{secrets.token_hex(4)}_", f"t_{secrets.token_hex(4)}_"
    with psycopg.connect(postgres, autocommit=True) as conn:
        for name in (f"{run}city", f"{run}center", f"{other}city"):
            conn.execute(f'CREATE SCHEMA "{name}"')
            conn.execute(f'CREATE TABLE "{name}".t (x int)')
    try:
        assert drop_schemas(postgres, run) == [f"{run}center", f"{run}city"]
        assert _schemas(run) == set()
        assert _schemas(other) == {f"{other}city"}
    finally:
        drop_schemas(postgres, other)


def test_drop_schemas_refuses_an_empty_prefix() -> None:
    with pytest.raises(ValueError, match="prefix"):
        drop_schemas(POSTGRES_URL, "")


@pytest.mark.postgres
def test_backend_cpu_counts_only_the_runs_connections(postgres: str) -> None:
    name = f"t_{secrets.token_hex(4)}"
    with BackendCpu(postgres, name) as cpu:
        assert cpu.seconds() == 0.0 and cpu.backends() == 0
        with psycopg.connect(postgres, application_name=name) as busy:
            busy.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
            spent = cpu.seconds()
            assert spent is not None and spent > 0
            assert cpu.backends() == 1
        with psycopg.connect(postgres, application_name=f"{name}x") as other:
            other.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
            assert cpu.seconds() == spent  # another application's backend is not the run's
        assert cpu.backends() == 1


def test_the_bench_takes_only_a_postgresql_url() -> None:
    done = CliRunner().invoke(
        app, ["bench", "issuance", "--requests", "1", "--database-url", "sqlite:///x.db"]
    )
    assert done.exit_code == 2
    assert "--database-url" in done.output and "postgresql" in done.output


def test_a_backend_that_ended_is_skipped_but_another_process_is_no_figure() -> None:
    from kofu.bench import postgres

    gone = subprocess_that_ended()
    assert postgres._process_cpu(gone) is None  # ended between the listing and the read
    with pytest.raises(postgres._NotHere):
        postgres._process_cpu(os.getpid())  # this machine's pid, but not PostgreSQL's


def subprocess_that_ended() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid
