"""The city's communication server (CS) side on SQL: the outbox, the link's mode, code blocks.

Every change of 本人確認情報 becomes one numbered row of ``juki_outbox`` in
the transaction that stores the change (``SqlRegisters.on_change`` calls
``record``), so a change is never stored without its notice nor a notice
sent without its change.  The rows are sent in seq order by
``kofu.core.sequenced``; a sent row is kept, so a clerk can list and resend
it (j1090).  Repositories never commit; the unit of work does.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.adapters.repository import SqlRegisters
from kofu.city.domain.juki_report import (
    LINK_MODES,
    OUTBOX_STATES,
    identity_notice,
    touches_identity,
)
from kofu.city.domain.model import Resident
from kofu.contracts.juki import CodeBlock
from kofu.core.identifiers import ResidentCode
from kofu.core.sequenced import Unsent

__all__ = ["LINK_MODES", "OUTBOX_STATES", "SqlJukiCs"]

_o = t.juki_outbox


def _now() -> datetime:
    """Wall-clock time of a notice: what end-to-end lag is measured against."""
    return datetime.now(UTC)


class SqlJukiCs:
    """One city's CS tables (the JukiCs book of kofu.city.domain.ports) on the unit's connection."""

    def __init__(self, conn: Connection, registers: SqlRegisters) -> None:
        self.conn, self.registers = conn, registers
        self._city: str | None = None

    def _code(self) -> str:
        if self._city is None:
            profile = self.registers.profile()
            assert profile is not None, "a city store is seeded before it changes"
            self._city = profile.code
        return self._city

    # --- writing notices ---------------------------------------------------------------------

    def record(
        self, before: Resident | None, after: Resident, version: int, effective: date, kind: str
    ) -> int | None:
        """Queue the notice of a change that touches 本人確認情報; its seq, or None if none."""
        if not touches_identity(before, after):
            return None
        return self._queue(after, before, version, effective, kind)

    def _queue(
        self, after: Resident, before: Resident | None, version: int, effective: date, kind: str
    ) -> int:
        seq = self.registers.next_number("juki_outbox")
        self.conn.execute(insert(_o), [self._row(seq, after, before, version, effective, kind)])
        return seq

    def _row(
        self,
        seq: int,
        after: Resident,
        before: Resident | None,
        version: int,
        effective: date,
        kind: str,
    ) -> dict[str, Any]:
        at = _now()
        notice = identity_notice(
            after,
            before=before,
            city=self._code(),
            version=version,
            seq=seq,
            reason=kind,
            effective=effective,
            at=at,
        )
        return {
            "seq": seq,
            "resident_code": after.resident_code,
            "reason": kind,
            "notice": notice.model_dump_json(),
            "state": "pending",
            "attempts": 0,
            "created_at": at,
        }

    def add_by_hand(
        self, resident_code: str, reason: str, retires: str | None = None
    ) -> int | None:
        """A clerk's notice of the record as it stands (手動追加); None for an unknown person."""
        person = self.registers.resident(resident_code)
        if person is None:
            return None
        before = person.model_copy(update={"resident_code": retires}) if retires else None
        version = self._version_today(resident_code)
        return self._queue(person, before, version, self.registers.today, reason)

    def _version_today(self, resident_code: str) -> int:
        history = self.registers.history(resident_code)
        in_effect = [v.version for v in history if v.effective <= self.registers.today]
        return max(in_effect or [v.version for v in history] or [1])

    def initial_load(self) -> int:
        """Queue every record once, the first time the city links to Juki-net (初期移行)."""
        if self.link()["loaded_at"] is not None:
            return 0
        self._ensure_link()
        self.conn.execute(update(t.juki_link).values(loaded_at=_now()))
        self.apply_due()
        r = t.residents
        rows = self.conn.execute(
            select(r.c.resident_code, r.c.data, r.c.version, r.c.next_change_on).order_by(
                r.c.resident_code
            )
        ).all()
        first = self.registers.next_number("juki_outbox", len(rows)) if rows else 0
        batch = []
        for k, row in enumerate(rows):
            person = Resident.model_validate_json(row.data)
            pending = row.next_change_on is not None  # the row's version is a future one
            version = self._version_today(row.resident_code) if pending else int(row.version)
            since = person.removed_on or person.became_resident_on
            batch.append(self._row(first + k, person, None, version, since, "load"))
            if len(batch) >= 1000:
                self.conn.execute(insert(_o), batch)
                batch = []
        if batch:
            self.conn.execute(insert(_o), batch)
        queued = len(rows)
        return queued

    def apply_due(self) -> int:
        """Bring planned changes whose day has come into effect (each queues its notice)."""
        due = self.conn.execute(
            select(t.residents.c.resident_code).where(
                t.residents.c.next_change_on <= self.registers.today
            )
        ).scalars()
        codes = list(due)
        for code in codes:
            self.registers.resident(code)
        return len(codes)

    # --- the outbox as kofu.core.sequenced drains it ------------------------------------------

    def unsent(self, limit: int) -> list[Unsent]:
        rows = self.conn.execute(
            select(_o.c.seq, _o.c.notice)
            .where(_o.c.state != "sent")
            .order_by(_o.c.seq)
            .limit(limit)
        )
        return [Unsent(r.seq, json.loads(r.notice)) for r in rows]

    def one(self, seq: int) -> Unsent | None:
        row = self.conn.execute(select(_o.c.seq, _o.c.notice).where(_o.c.seq == seq)).first()
        return Unsent(row.seq, json.loads(row.notice)) if row else None

    def mark_sent(self, first: int, through: int) -> None:
        self.conn.execute(
            update(_o)
            .where(and_(_o.c.seq >= first, _o.c.seq <= through))
            .values(state="sent", sent_at=_now(), error=None, attempts=_o.c.attempts + 1)
        )

    def rewind(self, to: int) -> None:
        self.conn.execute(update(_o).where(_o.c.seq >= to).values(state="pending"))

    def mark_failed(self, seq: int, reason: str) -> None:
        self.conn.execute(
            update(_o)
            .where(_o.c.seq == seq)
            .values(state="failed", error=reason[:2000], attempts=_o.c.attempts + 1)
        )

    # --- what staff see -----------------------------------------------------------------------

    def messages(self, state: str | None, limit: int, after: int = 0) -> list[dict[str, Any]]:
        query = select(_o).where(_o.c.seq > after).order_by(_o.c.seq).limit(limit)
        if state is not None:
            query = query.where(_o.c.state == state)
        return [
            {
                "seq": r.seq,
                "resident_code": r.resident_code,
                "reason": r.reason,
                "state": r.state,
                "attempts": r.attempts,
                "error": r.error,
                "created_at": r.created_at.isoformat(),
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            }
            for r in self.conn.execute(query)
        ]

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_o.c.state, func.count()).group_by(_o.c.state))
        found = {str(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in OUTBOX_STATES}

    def pending_for(self, resident_code: str) -> list[int]:
        """Unsent seqs about one person (a difference they explain is no drift)."""
        rows = self.conn.execute(
            select(_o.c.seq).where(_o.c.resident_code == resident_code, _o.c.state != "sent")
        )
        return [int(s) for s in rows.scalars()]

    # --- the link's mode (j1090: 手動連携 for a while) ------------------------------------------

    def _ensure_link(self) -> None:
        if self.conn.execute(select(t.juki_link.c.name)).first() is None:
            self.conn.execute(insert(t.juki_link).values(name="cs", mode="auto", changed_at=_now()))

    def link(self) -> dict[str, Any]:
        row = self.conn.execute(select(t.juki_link)).first()
        if row is None:
            return {"mode": "auto", "changed_at": None, "note": None, "loaded_at": None}
        return {
            "mode": row.mode,
            "changed_at": row.changed_at.isoformat(),
            "note": row.note,
            "loaded_at": row.loaded_at.isoformat() if row.loaded_at else None,
        }

    def set_mode(self, mode: str, note: str | None) -> None:
        self._ensure_link()
        self.conn.execute(update(t.juki_link).values(mode=mode, note=note, changed_at=_now()))

    # --- unused resident codes (未使用住民票コード) ---------------------------------------------

    def has_blocks(self) -> bool:
        return self.conn.execute(select(t.juki_code_blocks.c.block_id).limit(1)).first() is not None

    def codes_left(self) -> int:
        b = t.juki_code_blocks
        left = self.conn.execute(select(func.sum(b.c.count - b.c.used))).scalar_one_or_none()
        return int(left or 0)

    def take_code(self) -> str | None:
        """The next unused code of the oldest block, skipping any already in the register.

        None when the city has never received a block (not on Juki-net yet);
        a city on the network that has run out is refused rather than
        making a code of its own.
        """
        b = t.juki_code_blocks
        if not self.has_blocks():
            return None
        while True:
            row = self.conn.execute(
                select(b.c.block_id, b.c.first, b.c.used)
                .where(b.c.used < b.c.count)
                .order_by(b.c.received_at, b.c.block_id)
                .limit(1)
            ).first()
            if row is None:
                from kofu.core.errors import Conflict

                raise Conflict(
                    "the city has no unused resident codes left (未使用住民票コード); "
                    "the CS asks its prefecture for a new block — try again shortly",
                    field="resident_code",
                )
            taken = self.conn.execute(
                update(b)
                .where(b.c.block_id == row.block_id, b.c.used == row.used)
                .values(used=b.c.used + 1)
            )
            if not taken.rowcount:
                continue  # another transaction took it first
            code = ResidentCode.from_base(f"{row.first + row.used:010d}")
            if (
                self.conn.execute(
                    select(t.residents.c.resident_code).where(t.residents.c.resident_code == code)
                ).first()
                is None
            ):
                return str(code)

    def code_request(self, count: int) -> tuple[str, int]:
        """The block request still unanswered, or a new one kept before it is sent."""
        r = t.juki_code_requests
        row = self.conn.execute(
            select(r.c.request_id, r.c.count).where(r.c.block_id.is_(None))
        ).first()
        if row is not None:
            return str(row[0]), int(row[1])
        request_id = f"blk-{secrets.token_hex(12)}"
        self.conn.execute(insert(r).values(request_id=request_id, count=count, asked_at=_now()))
        return request_id, count

    def add_block(self, request_id: str, block: CodeBlock) -> bool:
        """Keep a received block once (a repeated answer to the same request adds nothing)."""
        b, r = t.juki_code_blocks, t.juki_code_requests
        if self.conn.execute(select(b.c.block_id).where(b.c.block_id == block.block_id)).first():
            self.conn.execute(
                update(r).where(r.c.request_id == request_id).values(block_id=block.block_id)
            )
            return False
        self.conn.execute(
            insert(b).values(
                block_id=block.block_id,
                first=block.first,
                count=block.count,
                used=0,
                received_at=_now(),
            )
        )
        self.conn.execute(
            update(r).where(r.c.request_id == request_id).values(block_id=block.block_id)
        )
        return True

    def blocks(self) -> list[dict[str, Any]]:
        b = t.juki_code_blocks
        rows = self.conn.execute(select(b).order_by(b.c.received_at, b.c.block_id))
        return [
            {"block_id": r.block_id, "first": r.first, "count": r._mapping["count"], "used": r.used}
            for r in rows
        ]

    # --- resident code change (住民票コード変更) ------------------------------------------------

    def rename_resident(self, old: str, new: str, on: date, channel: str) -> None:
        """Carry every row of the person over to ``new``; the old code is kept as retired."""
        kept = {"juki_outbox", "resident_code_changes"}  # history: notices as sent
        for table in t.metadata.sorted_tables:
            if table.name in kept or "resident_code" not in table.c:
                continue
            self.conn.execute(
                update(table).where(table.c.resident_code == old).values(resident_code=new)
            )
        self.conn.execute(
            insert(t.resident_code_changes).values(
                old_code=old, new_code=new, changed_on=on, channel=channel
            )
        )

    def retired_codes(self) -> list[str]:
        r = t.resident_code_changes
        return [str(c) for c in self.conn.execute(select(r.c.old_code)).scalars()]

    def retired_as(self, code: str) -> str | None:
        """The code that replaced ``code``, if it was retired here."""
        r = t.resident_code_changes
        found = self.conn.execute(select(r.c.new_code).where(r.c.old_code == code)).scalar()
        return None if found is None else str(found)

    def records_after(self, after: str, limit: int) -> list[Resident]:
        """The register's records as they stand today, after ``after`` by resident code."""
        r = t.residents
        rows = self.conn.execute(
            select(r.c.resident_code, r.c.data, r.c.next_change_on)
            .where(r.c.resident_code > after)
            .order_by(r.c.resident_code)
            .limit(limit)
        ).all()
        out = []
        for row in rows:
            due = row.next_change_on is not None and row.next_change_on <= self.registers.today
            person = self.registers.resident(row.resident_code) if due else None
            out.append(person or Resident.model_validate_json(row.data))
        return out
