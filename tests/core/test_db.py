"""``core.db.make_engine`` on PostgreSQL: a bounded pool, never churned, checked after idling."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, text

from kofu.core import db
from stores import POSTGRES_URL, drop_schema, postgres_unreachable

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine() -> Iterator[Engine]:
    reason = postgres_unreachable()
    if reason:
        pytest.skip(reason)
    schema = f"t_{secrets.token_hex(6)}_pool"
    engine = db.make_engine(POSTGRES_URL, schema)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_schema(schema)


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_sleep(0.01)"))
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_burst_of_threads_shares_the_kept_connections(engine: Engine) -> None:
    """More threads than connections wait their turn: no connection is opened to be closed."""
    seen: set[int] = set()
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            pid = _backend(engine)
            with lock:
                seen.add(pid)

    threads = [threading.Thread(target=work) for _ in range(24)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert 1 <= len(seen) <= db.POOL_SIZE


def test_a_connection_the_server_ended_while_idle_is_replaced(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(engine)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    monkeypatch.setattr(db, "IDLE_PING", 0.0)  # it has been idle long enough to be checked
    second = _backend(engine)
    assert second != first


def test_the_store_lives_in_its_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_schema()")).scalar_one().endswith("_pool")
