"""The center's unit of work on SQL: one connection, one transaction, committed only on request."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from kofu.center.adapters.repository import SqlAlarms, SqlIssuances, SqlSessions
from kofu.core.db import single_statements

__all__ = ["SqlCenterUnitOfWork", "sql_units"]


class SqlCenterUnitOfWork:
    """``with SqlCenterUnitOfWork(engine) as uow: ...; uow.commit()`` — else it rolls back.

    As cheap as ``engine.begin()``: one connection from the pool, the books
    made on it (three small objects), no statement of its own.
    """

    issuances: SqlIssuances
    sessions: SqlSessions
    alarms: SqlAlarms

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        conn = self._conn = self._engine.connect()
        self.issuances, self.sessions, self.alarms = (
            SqlIssuances(conn),
            SqlSessions(conn),
            SqlAlarms(conn),
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        assert self._conn is not None
        self._conn.commit()


class _SqlUnits:
    """A new unit of work on ``engine`` for each call; ``engine`` stays reachable for tools."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlCenterUnitOfWork:
        return SqlCenterUnitOfWork(self.engine)


def sql_units(engine: Engine) -> _SqlUnits:
    """The factory the center's services take: one unit of work per step, on this engine.

    Every transaction of the center is one statement (a read, or one conditional
    write), so on PostgreSQL each is sent alone, without BEGIN and COMMIT
    (``kofu.core.db.single_statements``): one round trip instead of three.
    """
    return _SqlUnits(single_statements(engine))
