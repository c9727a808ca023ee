"""Storing reports: one row per person and reporting city, replaced only by a newer version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.core.errors import Conflict
from kofu.juki.adapters import tables as t
from kofu.juki.domain.identity import IdentityRecord

__all__ = ["SqlIdentities", "same_records_at_once"]


def same_records_at_once() -> Conflict:
    """The same new record from two workers at once: the second is told to send again."""
    return Conflict(
        "another report of the same records is being stored; send again", field="records"
    )


class SqlIdentities:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def store_id(self) -> str:
        return str(self.conn.execute(select(t.store.c.store_id)).scalar_one())

    def of_person(self, resident_code: str) -> list[IdentityRecord]:
        rows = self.conn.execute(
            select(t.identities.c.data).where(t.identities.c.resident_code == resident_code)
        )
        return [IdentityRecord.model_validate_json(r.data) for r in rows]

    def stored(self, city: str, codes: Iterable[str]) -> dict[str, IdentityRecord]:
        """What juki keeps from ``city`` for these people, by resident code."""
        rows = self.conn.execute(
            select(t.identities.c.data).where(
                t.identities.c.city == city, t.identities.c.resident_code.in_(list(codes))
            )
        )
        found = (IdentityRecord.model_validate_json(r.data) for r in rows)
        return {r.resident_code: r for r in found}

    def put(self, record: IdentityRecord, *, replacing: bool, at: datetime) -> bool:
        """Store ``record``; a replacement only over an older version (False: lost the race)."""
        values = {
            "individual_number": record.individual_number,
            "state": record.state.value,
            "version": record.version,
            "since": record.since,
            "data": record.model_dump_json(),
            "received_at": at,
        }
        if not replacing:
            key = {"resident_code": record.resident_code, "city": record.city}
            try:
                self.conn.execute(insert(t.identities).values(**key, **values))
            except IntegrityError as exc:  # the unit of work rolls back: nothing is stored
                raise same_records_at_once() from exc
            return True
        done = self.conn.execute(
            update(t.identities)
            .where(
                and_(
                    t.identities.c.resident_code == record.resident_code,
                    t.identities.c.city == record.city,
                    t.identities.c.version < record.version,
                )
            )
            .values(**values)
        )
        return bool(done.rowcount)

    def number_in_use(self, individual_number: str, resident_code: str) -> bool:
        """Whether another person already carries this individual number."""
        row = self.conn.execute(
            select(t.identities.c.resident_code).where(
                t.identities.c.individual_number == individual_number,
                t.identities.c.resident_code != resident_code,
            )
        ).first()
        return row is not None

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.identities)).scalar_one())
