"""Stores for tests: a SQLite file, or a fresh PostgreSQL schema dropped afterwards.

Shared by every party's tests.  The PostgreSQL case is skipped, alone, when
no server answers at 127.0.0.1:5432.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from kofu.core.db import make_engine, migrate

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@cache
def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once per session)."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {POSTGRES_URL}: {first_line}"
    return None


def drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def fresh_store(backend: str, directory: Path, party: str) -> Iterator[Engine]:
    """An empty store of ``party`` migrated to the newest revision, removed afterwards."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{directory / f'{party}.sqlite'}")
        try:
            migrate(engine, party.split("_")[0])
            yield engine
        finally:
            engine.dispose()
        return
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{secrets.token_hex(6)}_{party}"
    engine = make_engine(POSTGRES_URL, schema)
    try:
        migrate(engine, party.split("_")[0])
        yield engine
    finally:
        engine.dispose()
        drop_schema(schema)
