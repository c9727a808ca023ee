"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (a schema per party)."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, bindparam, create_engine, event, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

__all__ = [
    "dialect_insert",
    "drop_schemas",
    "make_engine",
    "migrate",
    "next_in_sequence",
    "single_statements",
    "sqlalchemy_url",
]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# PostgreSQL connections a process keeps (each worker of a service has its own).  Its
# threads (FastAPI runs plain endpoints on up to 40) take turns on them: a transaction
# never waits on another party while it holds one, and two cores are busy well before
# five connections are.  Without overflow a burst waits a moment instead of opening a
# connection (a new server process, started on both sides) that the pool would close again.
# So a thread must never hold one connection while it asks for a second: with every
# connection taken, it would wait POOL_WAIT for itself.
POOL_SIZE = 5
POOL_WAIT = 30.0  # seconds a thread waits for a connection before its request fails
IDLE_PING = 10.0  # seconds in the pool after which a connection is checked before use


def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a connection that sat idle before use; a busy one has just shown it works.

    This replaces ``pool_pre_ping``, which cost a round trip on every checkout
    (a fifth of the statements of an issuance).  After a server restart a
    connection used within the last seconds fails its next statement once;
    SQLAlchemy then drops every connection the pool had, and the next request
    connects afresh.
    """
    if time.monotonic() - record.info.get("idle_since", 0.0) < IDLE_PING:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute(";")
        cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:  # whatever the driver raises, the connection is unusable
        raise DisconnectionError(str(exc)) from exc


def sqlalchemy_url(url: str) -> str:
    """``postgresql://`` as SQLAlchemy needs it to pick psycopg 3; any other URL unchanged."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for one party's store; PostgreSQL connections live in the party's schema."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    url = sqlalchemy_url(url)
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_size=POOL_SIZE,
        max_overflow=0,  # a thread waits for a kept connection; none is opened to be closed
        pool_timeout=POOL_WAIT,
    )
    event.listen(engine, "connect", _idle_from_now)
    event.listen(engine, "checkin", _idle_from_now)
    event.listen(engine, "checkout", _ping_if_idle)
    if schema:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


def dialect_insert(conn: Connection, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_*`` in the connection's dialect (both stores have it).

    An upsert is one statement: two transactions that both find no row cannot
    both insert it, where a read followed by an INSERT races on PostgreSQL.
    """
    return insert_in(conn.dialect.name, table)


def insert_in(dialect: str, table: Any) -> Any:
    """``dialect_insert`` by the dialect's name, for statements built once and kept."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def next_in_sequence(conn: Connection, counters: Table, name: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of the named sequence kept in ``counters`` (name, value).

    The UPDATE locks the sequence's row until the transaction ends, so numbers
    are never given twice.  Its first use is an upsert: two transactions that
    both find no row cannot both insert it; the second waits and takes the
    next numbers.  Returns the first number reserved.
    """
    row = conn.execute(_bump(counters), {"b_name": name, "b_count": count}).scalar_one_or_none()
    if row is None:
        first = dialect_insert(conn, counters).values(name=name, value=count)
        first = first.on_conflict_do_update(
            index_elements=[counters.c.name],
            set_={"value": counters.c.value + first.excluded.value},
        ).returning(counters.c.value)
        row = conn.execute(first).scalar_one()
    return int(row) - count + 1


@functools.cache
def _bump(counters: Table) -> Any:
    """The sequence's UPDATE … RETURNING, made once per table."""
    return (
        update(counters)
        .where(counters.c.name == bindparam("b_name"))
        .values(value=counters.c.value + bindparam("b_count"))
        .returning(counters.c.value)
    )


def single_statements(engine: Engine) -> Engine:
    """The same store (and pool) for work whose every transaction is one statement.

    On PostgreSQL a transaction costs two round trips besides its work:
    psycopg sends ``BEGIN`` on its own before the first statement, and
    ``COMMIT`` (or the pool's ``ROLLBACK`` after a read) after the last.
    One statement is atomic by itself, so a read, or a write that is one
    conditional UPDATE, INSERT or DELETE … RETURNING, is sent alone
    (autocommit): one round trip instead of three.  A ``ROLLBACK`` also
    makes psycopg drop every statement it had prepared on that connection
    (and send ``DEALLOCATE ALL``); without it, a statement used often stays
    prepared on the server.  ``engine.begin()`` on the result still works,
    but its statements are no longer one transaction: only code whose every
    ``begin()`` block needs no atomicity across statements may use it.
    SQLite is given back unchanged (a read there starts no transaction).
    """
    if engine.dialect.name != "postgresql":
        return engine
    single = _SINGLE.get(engine)
    if single is None:
        single = _SINGLE[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return single


_SINGLE: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()  # made once per engine


def drop_schemas(url: str, prefix: str) -> list[str]:
    """Drop every schema whose name starts with ``prefix`` (a run's throw-away stores)."""
    if not prefix:
        raise ValueError("a schema prefix is needed: an empty one would name every schema")
    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            names = [n for (n,) in conn.execute(text("SELECT nspname FROM pg_namespace"))]
            gone = sorted(n for n in names if n.startswith(prefix))
            for name in gone:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    finally:
        engine.dispose()
    return gone


def migrate(engine: Engine, party: str) -> None:
    """Bring one party's store to the newest Alembic revision."""
    config = Config()
    config.set_main_option(
        "script_location", str(Path(__file__).resolve().parent.parent / "migrations" / party)
    )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def run_migrations(connection: Connection, target_metadata: Any = None) -> None:
    """Body of every party's Alembic env.py: migrate on the connection we were handed."""
    from alembic import context

    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
