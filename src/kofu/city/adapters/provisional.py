"""Provisional entries (仮登録) in the ``provisional_entries`` table, stored whole as JSON."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.domain.provisional import EntryState, ProvisionalEntry
from kofu.core.db import next_in_sequence

__all__ = ["SqlProvisionalEntries"]

_p = t.provisional_entries


class SqlProvisionalEntries:
    """The city's provisional entries on one connection; never commits."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def new_entry_id(self) -> str:
        return f"PE{next_in_sequence(self.conn, t.counters, 'provisional_entry', 1):08d}"

    def add(self, entry: ProvisionalEntry) -> None:
        self.conn.execute(insert(_p).values(self._row(entry)))

    def decide(self, entry: ProvisionalEntry) -> bool:
        """Write the decision if the entry is still pending; False if another decided it first."""
        pending = EntryState.PENDING.value
        done = self.conn.execute(
            update(_p)
            .where(_p.c.entry_id == entry.entry_id, _p.c.state == pending)
            .values(self._row(entry))
        )
        return bool(done.rowcount)

    def entry(self, entry_id: str) -> ProvisionalEntry | None:
        data = self.conn.execute(select(_p.c.data).where(_p.c.entry_id == entry_id)).scalar()
        return ProvisionalEntry.model_validate_json(data) if data else None

    def entries(
        self, *, state: EntryState | None = None, resident_code: str | None = None
    ) -> list[ProvisionalEntry]:
        """In the order entered; all, or of one state, or of one person (仮登録一覧)."""
        query = select(_p.c.data).order_by(_p.c.entry_id)
        if state is not None:
            query = query.where(_p.c.state == state.value)
        if resident_code is not None:
            query = query.where(_p.c.resident_code == resident_code)
        return [ProvisionalEntry.model_validate_json(d) for d in self.conn.execute(query).scalars()]

    @staticmethod
    def _row(entry: ProvisionalEntry) -> dict[str, object]:
        return {
            "entry_id": entry.entry_id,
            "state": entry.state.value,
            "resident_code": entry.resident_code,
            "kind": entry.kind,
            "entered_at": entry.entered_at,
            "data": entry.model_dump_json(),
        }
