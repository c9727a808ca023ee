"""The office's rows: staff accounts, signed-in sessions and the audit trail, beside the registers.

``OfficeUnitOfWork`` is the city's unit of work with one more repository:
the office's own tables live in the city's database (one transaction covers
an issuance and its audit row), created by the ``office`` city migration.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Self

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from kofu.city.adapters import tables as t
from kofu.city.adapters.repository import _RECORD, SqlRegisters
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import Resident
from kofu.city.domain.office import AuditEntry
from kofu.core.instant import Instant

__all__ = ["OfficeUnitOfWork", "SqlOffice", "audit_trail", "staff", "staff_sessions"]

metadata = MetaData()

staff = Table(
    "office_staff",
    metadata,
    Column("user_name", String(32), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("failed", Integer, nullable=False, default=0),
    Column("locked_until", Instant()),
    Column("created_at", Instant(), nullable=False),
)

staff_sessions = Table(
    "office_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie; never the cookie
    Column("user_name", String(32), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Instant(), nullable=False),
    Column("seen_at", Instant(), nullable=False),
)

audit_trail = Table(
    "office_audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("staff", String(32), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(48), nullable=False),
    Column("resident", String(16), nullable=False, index=True),
    Column("purpose", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


class SqlOffice:
    """Staff, sessions and the audit trail on one connection; never commits."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- staff -------------------------------------------------------------------------

    def staff_member(self, user_name: str) -> Any:
        return self.conn.execute(select(staff).where(staff.c.user_name == user_name)).first()

    def save_staff(self, user_name: str, role: str, password_hash: str, at: datetime) -> bool:
        """Add or replace an account; True when it is new."""
        known = self.staff_member(user_name) is not None
        values = {"role": role, "password_hash": password_hash, "failed": 0, "locked_until": None}
        if known:
            self.conn.execute(update(staff).where(staff.c.user_name == user_name).values(values))
            self.conn.execute(delete(staff_sessions).where(staff_sessions.c.user_name == user_name))
        else:
            self.conn.execute(insert(staff).values(user_name=user_name, created_at=at, **values))
        return not known

    def count_staff(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(staff)).scalar_one())

    def record_failure(self, user_name: str, failed: int, locked_until: datetime | None) -> None:
        self.conn.execute(
            update(staff)
            .where(staff.c.user_name == user_name)
            .values(failed=failed, locked_until=locked_until)
        )

    def rehash(self, user_name: str, password_hash: str) -> None:
        self.conn.execute(
            update(staff).where(staff.c.user_name == user_name).values(password_hash=password_hash)
        )

    # --- sessions ----------------------------------------------------------------------

    def open_session(self, token_hash: str, user_name: str, csrf: str, at: datetime) -> None:
        self.conn.execute(
            insert(staff_sessions).values(
                token_hash=token_hash, user_name=user_name, csrf=csrf, created_at=at, seen_at=at
            )
        )

    def session(self, token_hash: str) -> Any:
        query = (
            select(staff_sessions, staff.c.role)
            .join(staff, staff.c.user_name == staff_sessions.c.user_name)
            .where(staff_sessions.c.token_hash == token_hash)
        )
        return self.conn.execute(query).first()

    def touch_session(self, token_hash: str, at: datetime) -> None:
        self.conn.execute(
            update(staff_sessions)
            .where(staff_sessions.c.token_hash == token_hash)
            .values(seen_at=at)
        )

    def close_session(self, token_hash: str) -> None:
        self.conn.execute(delete(staff_sessions).where(staff_sessions.c.token_hash == token_hash))

    # --- the audit trail ---------------------------------------------------------------

    def last_audit(self) -> AuditEntry | None:
        row = self.conn.execute(
            select(audit_trail).order_by(audit_trail.c.seq.desc()).limit(1)
        ).first()
        return _entry(row) if row else None

    def append_audit(self, entry: AuditEntry) -> None:
        """Insert only: the trail has no update or delete here (the database refuses them too)."""
        values = entry.body() | {"hash": entry.hash, "detail": json.dumps(dict(entry.detail))}
        self.conn.execute(insert(audit_trail).values(values))

    def audit_entries(self, since: str | None = None, limit: int | None = None) -> list[AuditEntry]:
        query = select(audit_trail).order_by(audit_trail.c.seq)
        if since is not None:
            query = query.where(audit_trail.c.at >= since)
        if limit is not None:
            query = query.order_by(None).order_by(audit_trail.c.seq.desc()).limit(limit)
        rows = [_entry(r) for r in self.conn.execute(query)]
        return sorted(rows, key=lambda e: e.seq)

    # --- finding residents -------------------------------------------------------------

    def search_residents(
        self,
        registers: SqlRegisters,
        *,
        name: str = "",
        kana: str = "",
        birth_date: date | None = None,
        address: str = "",
        limit: int = 50,
    ) -> list[Resident]:
        """Records matching every criterion given (parts of name, kana, address; exact birth)."""
        r = t.residents
        query = _RECORD
        if name:
            query = query.where(r.c.name.contains(name, autoescape=True))
        if kana:
            query = query.where(r.c.kana.contains(kana, autoescape=True))
        if birth_date is not None:
            query = query.where(r.c.birth_date == birth_date)
        if address:
            query = query.where(r.c.data.contains(address, autoescape=True))  # the JSON record
        rows = self.conn.execute(query.order_by(r.c.kana, r.c.resident_code).limit(limit))
        return [registers._current(row) for row in rows]


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        staff=row.staff,
        role=row.role,
        action=row.action,
        resident=row.resident,
        purpose=row.purpose,
        detail=json.loads(row.detail),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class OfficeUnitOfWork(CityUnitOfWork):
    """The city's unit of work with the office's repository on the same transaction."""

    office: SqlOffice

    def __init__(self, engine: Engine, city_code: str, today: date | None = None) -> None:
        super().__init__(engine, today=today)
        self.city_code = city_code

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._conn is not None
        self.office = SqlOffice(self._conn)
        return self


class DryRun(OfficeUnitOfWork):
    """A unit of work whose commit does nothing: a service run on it shows what it would change.

    The register-change preview runs the very code that applies the events,
    then everything rolls back when the block ends.
    """

    def commit(self) -> None:
        return None
