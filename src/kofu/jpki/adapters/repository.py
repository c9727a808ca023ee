"""The authority's register of issued certificates, on SQL; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from kofu.jpki.adapters import tables as t

__all__ = ["CertificateRecord", "SqlCertificates"]


@dataclass(frozen=True)
class CertificateRecord:
    """One issued certificate and its status."""

    serial: int
    kind: str
    city: str
    resident_code: str
    card_id: str
    not_before: datetime
    not_after: datetime
    status: str
    revoked_at: datetime | None
    cause: str | None
    der: bytes


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
            self.conn.execute(insert(r).values(name=name, value=1))
            return 1
        return int(self.conn.execute(select(r.c.value).where(r.c.name == name)).scalar_one())
