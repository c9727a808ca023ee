"""Fixtures shared by the test suite: city stores on SQLite and PostgreSQL.

``city_engine`` is an empty, migrated city store, once per backend: a file under
``tmp_path`` for SQLite, a fresh schema ``t_<hex>_city_112186`` for PostgreSQL
(dropped afterwards).  The PostgreSQL case is skipped, alone, when no server is
reachable at 127.0.0.1:5432.

``seeded_engine`` is the same store holding a small synthetic city.  The city is
generated with ``seed_city`` once per backend and session; each test then gets a
copy of its rows in its own store, so tests may change data freely.
``shared_seeded_engine`` holds the same city once per module, for tests that only
read or whose events are all refused; ``large_city_engine`` is a module's city of
2,000 residents, read only.  ``db_rows`` and ``rows_of`` read every table, to show
that a refused request changed nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect, select, text

from kofu.city.adapters import tables
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST, FixedClock
from stores import BACKENDS, fresh_store

CITY_CODE = "112186"  # 埼玉県深谷市
SEED = 7
SEED_RESIDENTS = 300
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


Rows = dict[str, list[dict[str, Any]]]


@contextmanager
def fresh_engine(backend: str, directory: Path) -> Iterator[Engine]:
    """An empty city store migrated to the newest revision, removed afterwards."""
    with fresh_store(backend, directory, f"city_{CITY_CODE}") as engine:
        yield engine


def table_rows(engine: Engine) -> Rows:
    """Every row of every city table, in primary-key order (to copy or to compare)."""
    present = set(inspect(engine).get_table_names())
    out: Rows = {}
    with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            if table.name not in present:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            out[table.name] = [dict(row._mapping) for row in conn.execute(query)]
    return out


@pytest.fixture(params=BACKENDS)
def city_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty, migrated city store of its own for this test."""
    with fresh_engine(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture(scope="session")
def _seeded_rows() -> dict[str, Rows]:
    """The rows of the seeded template city, per backend, filled on first use."""
    return {}


def _copy_seeded_city(
    engine: Engine, cache: dict[str, Rows], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Fill an empty store with the small synthetic city, seeded once per backend."""
    backend = engine.dialect.name
    if backend not in cache:
        with fresh_engine(backend, tmp_path_factory.mktemp(f"template_{backend}")) as template:
            seed_city(
                engine=template,
                code=CITY_CODE,
                residents=SEED_RESIDENTS,
                seed=SEED,
                today=TODAY,
            )
            cache[backend] = table_rows(template)
    with engine.begin() as conn:
        for table in tables.metadata.sorted_tables:
            rows = cache[backend].get(table.name)
            if rows:
                conn.execute(insert(table), rows)
        if backend == "postgresql":  # the copied ids must not be handed out again
            conn.execute(
                text(
                    "select setval(pg_get_serial_sequence('event_log', 'id'), "
                    "coalesce(max(id), 0) + 1, false) from event_log"
                )
            )


@pytest.fixture
def seeded_engine(
    city_engine: Engine,
    _seeded_rows: dict[str, Rows],
    tmp_path_factory: pytest.TempPathFactory,
) -> Engine:
    """This test's own store holding the small city (seed 7, 300 residents, 2026-11-23)."""
    _copy_seeded_city(city_engine, _seeded_rows, tmp_path_factory)
    return city_engine


@pytest.fixture(scope="module", params=BACKENDS)
def shared_seeded_engine(
    request: pytest.FixtureRequest,
    _seeded_rows: dict[str, Rows],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Engine]:
    """The same small city, shared by a module's tests: for reads and refused events only."""
    with fresh_engine(request.param, tmp_path_factory.mktemp("shared_city")) as engine:
        _copy_seeded_city(engine, _seeded_rows, tmp_path_factory)
        yield engine


@pytest.fixture
def clock() -> FixedClock:
    """The injected clock: 2026-11-23 10:00 Japan time."""
    return FixedClock(NOW)


@pytest.fixture
def db_rows(seeded_engine: Engine) -> Callable[[], Rows]:
    """Reads every row of the seeded store, to show that a refused batch changed nothing."""
    return lambda: table_rows(seeded_engine)


@pytest.fixture(scope="session")
def rows_of() -> Callable[[Engine], Rows]:
    """Reads every row of any city store (``table_rows``), to compare before and after."""
    return table_rows


@pytest.fixture(scope="module", params=BACKENDS)
def large_city_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A city of 2,000 residents (seed 7), shared by a module's tests: read it, never change it."""
    with fresh_engine(request.param, tmp_path_factory.mktemp("large_city")) as engine:
        seed_city(engine=engine, code=CITY_CODE, residents=2000, seed=SEED, today=TODAY)
        yield engine


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow end-to-end tests first, so a worker starts the 5,000-issuance run at once.

    With ``--dist loadscope --no-loadscope-reorder`` each module stays on one
    worker, so a module's fixture (a whole running system) is built once, and
    modules are handed out in this order.
    """
    items.sort(key=lambda i: (i.get_closest_marker("slow") is None, "/e2e/" not in i.nodeid))
