"""The authority's register of issued certificates, on SQL; never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.core.errors import Conflict
from kofu.jpki.adapters import tables as t
from kofu.jpki.domain.ports import CertificateRecord

__all__ = ["CertificateRecord", "SqlCertificates", "counter_race"]


def counter_race() -> Conflict:
    """Two workers made the same new counter at once; the step may be tried again."""
    return Conflict("another worker made the same counter at this moment; try again")


def _record(row: object) -> CertificateRecord:
    m = row._mapping  # type: ignore[attr-defined]
    return CertificateRecord(**{**dict(m), "serial": int(m["serial"], 16)})


class SqlCertificates:
    """Issued certificates by serial, card and kind."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, record: CertificateRecord) -> None:
        values = {**record.__dict__, "serial": f"{record.serial:x}"}
        self.conn.execute(insert(t.certificates).values(values))

    def get(self, serial: int) -> CertificateRecord | None:
        row = self.conn.execute(
            select(t.certificates).where(t.certificates.c.serial == f"{serial:x}")
        ).first()
        return _record(row) if row else None

    def for_card(self, card_id: str) -> list[CertificateRecord]:
        rows = self.conn.execute(select(t.certificates).where(t.certificates.c.card_id == card_id))
        return [_record(r) for r in rows]

    def revoke(self, serial: int, at: datetime, cause: str) -> None:
        self.conn.execute(
            update(t.certificates)
            .where(t.certificates.c.serial == f"{serial:x}")
            .values(status="revoked", revoked_at=at, cause=cause)
        )
        self.bump()

    def revoked(self, kind: str) -> list[tuple[int, datetime, str]]:
        rows = self.conn.execute(
            select(
                t.certificates.c.serial, t.certificates.c.revoked_at, t.certificates.c.cause
            ).where(t.certificates.c.kind == kind, t.certificates.c.status == "revoked")
        )
        return [(int(r.serial, 16), r.revoked_at, r.cause) for r in rows]

    def revision(self) -> int:
        value = self.conn.execute(
            select(t.revision.c.value).where(t.revision.c.name == "revocations")
        ).scalar_one_or_none()
        return int(value or 0)

    def bump(self) -> None:
        self.next_value("revocations")

    def next_value(self, name: str) -> int:
        """Count ``name`` up by one and return the new value (1 the first time)."""
        r = t.revision
        done = self.conn.execute(update(r).where(r.c.name == name).values(value=r.c.value + 1))
        if done.rowcount == 0:
            try:
                self.conn.execute(insert(r).values(name=name, value=1))
            except IntegrityError as exc:  # the unit of work rolls back
                raise counter_race() from exc
            return 1
        return int(self.conn.execute(select(r.c.value).where(r.c.name == name)).scalar_one())
