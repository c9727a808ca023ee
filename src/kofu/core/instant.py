"""A column for an instant in time that reads back as the same instant on every store.

SQLite has no time zone type: SQLAlchemy writes an aware datetime as its
wall-clock digits and drops the offset, so a time taken from the service
clock (JST) read back as UTC was nine hours late, and a session meant to
live ten minutes lived nine hours.  Every instant is therefore written in
UTC and read back as UTC-aware; PostgreSQL (``timestamptz``) keeps the
instant either way, so both stores answer alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["Instant"]


class Instant(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that refuses a naive value and always answers in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"an instant needs its time zone: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        if value.tzinfo is None:  # SQLite: written in UTC above
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
