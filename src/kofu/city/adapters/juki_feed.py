"""The feed to juki: residents whose record changed since the city last reported them.

Instead of a message per change, the bookmark table remembers which
version of each record juki has had; whatever is newer (or whose stored
future version has come due) is reported again.  A crash between
reporting and bookmarking only makes the city report the same version
twice, which juki ignores.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.adapters.repository import SqlRegisters
from kofu.city.domain.ports import Unreported

__all__ = ["SqlJukiFeed", "Unreported"]


class SqlJukiFeed:
    def __init__(self, conn: Connection, registers: SqlRegisters) -> None:
        self.conn, self.registers = conn, registers

    def reported_to(self) -> str | None:
        """The juki store the bookmarks are about (None before the first report)."""
        found = self.conn.execute(select(t.juki_store.c.store_id)).scalar_one_or_none()
        return None if found is None else str(found)

    def start_over(self, store_id: str) -> None:
        """Forget every bookmark: ``store_id`` has heard nothing from this city yet."""
        self.conn.execute(delete(t.juki_reported))
        self.conn.execute(delete(t.juki_store))
        self.conn.execute(insert(t.juki_store).values(store_id=store_id))

    def unreported(self, limit: int) -> list[Unreported]:
        r, b = t.residents, t.juki_reported
        rows = self.conn.execute(
            select(r.c.resident_code)
            .outerjoin(b, b.c.resident_code == r.c.resident_code)
            .where(
                or_(
                    b.c.resident_code.is_(None),
                    r.c.version > b.c.row_version,
                    and_(b.c.due_on.is_not(None), b.c.due_on <= self.registers.today),
                )
            )
            .order_by(r.c.resident_code)
            .limit(limit)
        ).scalars()
        return [self._as_today(code) for code in list(rows)]

    def _as_today(self, code: str) -> Unreported:
        person = self.registers.resident(code)  # applies a future version that has come due
        assert person is not None
        row = self.conn.execute(
            select(t.residents.c.version, t.residents.c.next_change_on).where(
                t.residents.c.resident_code == code
            )
        ).one()
        version = row.version
        if row.next_change_on is not None:  # versions after today are not in effect yet
            history = self.registers.history(code)
            version = max(v.version for v in history if v.effective <= self.registers.today)
        return Unreported(person, version, row.version, row.next_change_on)

    def mark(self, reported: list[Unreported], at: datetime) -> None:
        codes = [u.person.resident_code for u in reported]
        self.conn.execute(delete(t.juki_reported).where(t.juki_reported.c.resident_code.in_(codes)))
        if reported:
            self.conn.execute(
                insert(t.juki_reported),
                [
                    {
                        "resident_code": u.person.resident_code,
                        "row_version": u.row_version,
                        "due_on": u.due_on,
                        "reported_at": at,
                    }
                    for u in reported
                ],
            )
