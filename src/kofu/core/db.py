"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (a schema per party)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

__all__ = ["drop_schemas", "make_engine", "migrate", "sqlalchemy_url"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


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
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if schema:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    return engine


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
