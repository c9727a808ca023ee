"""The authority's unit of work on SQL: one connection, one transaction, committed on request."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.jpki.adapters.repository import SqlCertificates, counter_race

__all__ = ["SqlJpkiUnitOfWork", "jpki_units"]


class SqlJpkiUnitOfWork:
    certificates: SqlCertificates

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> Self:
        self._conn = self._engine.connect()
        self.certificates = SqlCertificates(self._conn)
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
        try:
            self._conn.commit()
        except IntegrityError as exc:
            raise counter_race() from exc


class _Units:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlJpkiUnitOfWork:
        return SqlJpkiUnitOfWork(self.engine)


def jpki_units(engine: Engine) -> _Units:
    """The factory the authority's service takes: one unit of work per step, on this engine."""
    return _Units(engine)
