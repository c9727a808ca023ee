"""Juki-net's hierarchy on SQL: cursors and received notices, the forward outbox, code blocks,
retired codes and provisions.  Repositories never commit; the service's transaction does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from kofu.contracts.juki import IdentityReport
from kofu.core.db import next_in_sequence
from kofu.core.sequenced import Unsent
from kofu.juki.adapters import tables as t
from kofu.juki.domain.ports import NetworkRuns, SameRowsAtOnce

__all__ = ["SqlNetwork", "Staged"]

_f = t.forward


class SqlNetwork:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- the store's role -------------------------------------------------------------------

    def role(self) -> str | None:
        return self.conn.execute(select(t.node.c.role)).scalar_one_or_none()

    def set_role(self, role: str) -> None:
        self.conn.execute(insert(t.node).values(name="node", role=role))

    def next_number(self, name: str, count: int = 1) -> int:
        """Reserve ``count`` numbers of a named sequence (a row lock on PostgreSQL); the first."""
        return next_in_sequence(self.conn, t.counters, name, count)

    # --- receiving --------------------------------------------------------------------------

    def cursor(self, sender: str) -> int:
        found = self.conn.execute(
            select(t.cursors.c.last_seq).where(t.cursors.c.sender == sender)
        ).scalar_one_or_none()
        return int(found or 0)

    def set_cursor(self, sender: str, last: int, had: int) -> bool:
        """Move the sender's cursor from ``had`` to ``last``; False if another batch moved it."""
        if had == 0 and self.cursor(sender) == 0:
            exists = self.conn.execute(
                select(t.cursors.c.sender).where(t.cursors.c.sender == sender)
            ).first()
            if exists is None:
                self.conn.execute(insert(t.cursors).values(sender=sender, last_seq=last))
                return True
        done = self.conn.execute(
            update(t.cursors)
            .where(t.cursors.c.sender == sender, t.cursors.c.last_seq == had)
            .values(last_seq=last)
        )
        return bool(done.rowcount)

    def digests(self, sender: str, first: int, last: int) -> dict[int, str]:
        r = t.received
        rows = self.conn.execute(
            select(r.c.seq, r.c.digest).where(r.c.sender == sender, r.c.seq.between(first, last))
        )
        return {int(row.seq): str(row.digest) for row in rows}

    def note_received(
        self, sender: str, seq: int, digest: str, resident_code: str, recorded: datetime
    ) -> None:
        self.conn.execute(
            insert(t.received).values(
                sender=sender,
                seq=seq,
                digest=digest,
                resident_code=resident_code,
                recorded_at=recorded,
                received_at=datetime.now(UTC),
            )
        )

    def number_holders(self, numbers: set[str]) -> dict[str, set[str]]:
        """Who carries each of these individual numbers now, by resident code."""
        i = t.identities
        out: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(numbers)):
            rows = self.conn.execute(
                select(i.c.individual_number, i.c.resident_code).where(
                    i.c.individual_number.in_(chunk)
                )
            )
            for number, code in rows:
                out.setdefault(str(number), set()).add(str(code))
        return out

    def retired_among(self, codes: set[str]) -> set[str]:
        r = t.retired_codes
        found: set[str] = set()
        for chunk in _chunks(sorted(codes)):
            rows = self.conn.execute(select(r.c.resident_code).where(r.c.resident_code.in_(chunk)))
            found |= {str(c) for c in rows.scalars()}
        return found

    def staging(self, keys: set[tuple[str, str]]) -> Staged:
        """Writes of a batch, kept until ``flush`` (which a code retirement calls first)."""
        i = t.identities
        existing: set[tuple[str, str]] = set()
        for chunk in _chunks(sorted(keys)):
            rows = self.conn.execute(
                select(i.c.resident_code, i.c.city).where(
                    i.c.resident_code.in_([c for c, _ in chunk])
                )
            )
            existing |= {(str(a), str(b)) for a, b in rows}
        return Staged(self, existing)

    def put_record(self, record: IdentityReport) -> None:
        """Keep the city's record as the notice says (notices arrive in order: the last wins)."""
        i = t.identities
        key = and_(i.c.resident_code == record.resident_code, i.c.city == record.city)
        values = {
            "individual_number": record.individual_number,
            "state": record.state,
            "version": record.version,
            "since": record.since,
            "data": record.model_dump_json(exclude={"v"}),
            "received_at": datetime.now(UTC),
        }
        if self.conn.execute(update(i).where(key).values(**values)).rowcount == 0:
            self.conn.execute(
                insert(i).values(resident_code=record.resident_code, city=record.city, **values)
            )

    def retire(self, old: str, new: str, city: str, on: date) -> None:
        """Retire ``old`` (住民票コード変更): its record goes, the code is never valid again."""
        self.conn.execute(
            delete(t.identities).where(
                t.identities.c.resident_code == old, t.identities.c.city == city
            )
        )
        r = t.retired_codes
        if self.conn.execute(select(r.c.resident_code).where(r.c.resident_code == old)).first():
            self.conn.execute(update(r).where(r.c.resident_code == old).values(new_code=new))
        else:
            self.conn.execute(
                insert(r).values(resident_code=old, new_code=new, city=city, retired_on=on)
            )

    def retired(self, code: str) -> tuple[str, date] | None:
        r = t.retired_codes
        row = self.conn.execute(
            select(r.c.new_code, r.c.retired_on).where(r.c.resident_code == code)
        ).first()
        return (str(row.new_code), row.retired_on) if row else None

    def retired_of_city(self, city: str) -> list[str]:
        r = t.retired_codes
        rows = self.conn.execute(select(r.c.resident_code).where(r.c.city == city))
        return sorted(str(c) for c in rows.scalars())

    def number_holder(self, individual_number: str, resident_code: str) -> str | None:
        """Another person's resident code already carrying this individual number, if any."""
        i = t.identities
        row = self.conn.execute(
            select(i.c.resident_code).where(
                i.c.individual_number == individual_number, i.c.resident_code != resident_code
            )
        ).first()
        return str(row.resident_code) if row else None

    def of_city(self, city: str, after: str, limit: int) -> list[IdentityReport]:
        i = t.identities
        rows = self.conn.execute(
            select(i.c.data)
            .where(i.c.city == city, i.c.resident_code > after)
            .order_by(i.c.resident_code)
            .limit(limit)
        )
        return [IdentityReport.model_validate_json(r.data) for r in rows]

    def of_person(self, code: str) -> list[IdentityReport]:
        i = t.identities
        rows = self.conn.execute(select(i.c.data).where(i.c.resident_code == code))
        return [IdentityReport.model_validate_json(r.data) for r in rows]

    # --- the forward outbox (a prefecture's server towards the national server) -------------

    def queue_forward(self, notice: dict[str, Any], resident_code: str) -> int:
        seq = self.next_number("forward")
        notice = notice | {"seq": seq}
        self.conn.execute(
            insert(_f).values(
                seq=seq,
                resident_code=resident_code,
                notice=json.dumps(notice, ensure_ascii=False),
                state="pending",
                attempts=0,
                created_at=datetime.now(UTC),
            )
        )
        return seq

    def unsent(self, limit: int) -> list[Unsent]:
        rows = self.conn.execute(
            select(_f.c.seq, _f.c.notice)
            .where(_f.c.state != "sent")
            .order_by(_f.c.seq)
            .limit(limit)
        )
        return [Unsent(int(r.seq), json.loads(r.notice)) for r in rows]

    def one(self, seq: int) -> Unsent | None:
        row = self.conn.execute(select(_f.c.seq, _f.c.notice).where(_f.c.seq == seq)).first()
        return Unsent(int(row.seq), json.loads(row.notice)) if row else None

    def mark_sent(self, first: int, through: int) -> None:
        self.conn.execute(
            update(_f)
            .where(_f.c.seq.between(first, through))
            .values(state="sent", sent_at=datetime.now(UTC), error=None, attempts=_f.c.attempts + 1)
        )

    def rewind(self, to: int) -> None:
        self.conn.execute(update(_f).where(_f.c.seq >= to).values(state="pending"))

    def mark_failed(self, seq: int, reason: str) -> None:
        self.conn.execute(
            update(_f)
            .where(_f.c.seq == seq)
            .values(state="failed", error=reason[:2000], attempts=_f.c.attempts + 1)
        )

    def forward_counts(self) -> dict[str, int]:
        rows = self.conn.execute(select(_f.c.state, func.count()).group_by(_f.c.state))
        return {str(s): int(n) for s, n in rows}

    # --- unused resident codes --------------------------------------------------------------

    def block_for(self, holder: str, request_id: str) -> dict[str, Any] | None:
        b = t.code_blocks
        row = self.conn.execute(
            select(b.c.block_id, b.c.first, b.c.count).where(
                b.c.holder == holder, b.c.request_id == request_id
            )
        ).first()
        return None if row is None else {"block_id": row[0], "first": row[1], "count": row[2]}

    def give_block(
        self, block_id: str, holder: str, request_id: str, first: int, count: int
    ) -> None:
        self.conn.execute(
            insert(t.code_blocks).values(
                block_id=block_id,
                holder=holder,
                request_id=request_id,
                first=first,
                count=count,
                issued_at=datetime.now(UTC),
            )
        )

    def take_stock(self, count: int) -> tuple[int, int] | None:
        """Up to ``count`` codes from the oldest stock block: (first base, how many), or None."""
        s = t.code_stock
        while True:
            row = self.conn.execute(
                select(s.c.block_id, s.c.first, s.c.count, s.c.used)
                .where(s.c.used < s.c.count)
                .order_by(s.c.received_at, s.c.block_id)
                .limit(1)
            ).first()
            if row is None:
                return None
            n = min(count, row[2] - row[3])
            done = self.conn.execute(
                update(s).where(s.c.block_id == row[0], s.c.used == row[3]).values(used=row[3] + n)
            )
            if done.rowcount:
                return int(row[1]) + int(row[3]), n

    def stock_left(self) -> int:
        s = t.code_stock
        return int(
            self.conn.execute(select(func.sum(s.c.count - s.c.used))).scalar_one_or_none() or 0
        )

    def stock_request(self, count: int, new_id: str) -> tuple[str, int]:
        r = t.code_requests
        row = self.conn.execute(
            select(r.c.request_id, r.c.count).where(r.c.block_id.is_(None))
        ).first()
        if row is not None:
            return str(row[0]), int(row[1])
        self.conn.execute(
            insert(r).values(request_id=new_id, count=count, asked_at=datetime.now(UTC))
        )
        return new_id, count

    def add_stock(self, request_id: str, block_id: str, first: int, count: int) -> None:
        s, r = t.code_stock, t.code_requests
        if not self.conn.execute(select(s.c.block_id).where(s.c.block_id == block_id)).first():
            self.conn.execute(
                insert(s).values(
                    block_id=block_id,
                    first=first,
                    count=count,
                    used=0,
                    received_at=datetime.now(UTC),
                )
            )
        self.conn.execute(update(r).where(r.c.request_id == request_id).values(block_id=block_id))

    # --- provisions -------------------------------------------------------------------------

    def log_provision(
        self, provision_id: str, code: str, agency: str, purpose: str, at: datetime
    ) -> None:
        self.conn.execute(
            insert(t.provisions).values(
                provision_id=provision_id,
                resident_code=code,
                agency=agency,
                purpose=purpose,
                provided_at=at,
            )
        )

    def provisions_of(self, code: str) -> list[dict[str, Any]]:
        p = t.provisions
        rows = self.conn.execute(
            select(p.c.provision_id, p.c.agency, p.c.purpose, p.c.provided_at)
            .where(p.c.resident_code == code)
            .order_by(p.c.provided_at)
        )
        return [dict(r._mapping) for r in rows]

    def lag_seconds(self, since: datetime) -> list[float]:
        """End-to-end lag of the notices received since ``since``: city's write → stored here."""
        r = t.received
        rows = self.conn.execute(
            select(r.c.recorded_at, r.c.received_at).where(r.c.received_at >= since)
        )
        return [(b - a).total_seconds() for a, b in rows]


def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[k : k + size] for k in range(0, len(items), size)]


_i = t.identities
_UPDATE = (
    update(_i)
    .where(_i.c.resident_code == bindparam("k_code"), _i.c.city == bindparam("k_city"))
    .values(
        individual_number=bindparam("v_individual_number"),
        state=bindparam("v_state"),
        version=bindparam("v_version"),
        since=bindparam("v_since"),
        data=bindparam("v_data"),
        received_at=bindparam("v_received_at"),
    )
)


class Staged:
    """A batch's writes, sent as a few executemany statements (in order, on flush)."""

    def __init__(self, repo: SqlNetwork, existing: set[tuple[str, str]]) -> None:
        self.repo, self.existing = repo, existing
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.receipts: list[dict[str, Any]] = []
        self.forwards: list[tuple[dict[str, Any], str]] = []

    def put(self, record: IdentityReport) -> None:
        now = datetime.now(UTC)
        values = {
            "individual_number": record.individual_number,
            "state": record.state,
            "version": record.version,
            "since": record.since,
            "data": record.model_dump_json(exclude={"v"}),
            "received_at": now,
        }
        key = (record.resident_code, record.city)
        if key in self.existing:
            self.updates.append(
                {"k_code": key[0], "k_city": key[1], **{f"v_{k}": v for k, v in values.items()}}
            )
        else:
            self.inserts.append({"resident_code": key[0], "city": key[1], **values})
            self.existing.add(key)

    def received(
        self, sender: str, seq: int, digest: str, resident_code: str, recorded: datetime
    ) -> None:
        self.receipts.append(
            {
                "sender": sender,
                "seq": seq,
                "digest": digest,
                "resident_code": resident_code,
                "recorded_at": recorded,
                "received_at": datetime.now(UTC),
            }
        )

    def forward(self, notice: dict[str, Any], resident_code: str) -> None:
        self.forwards.append((notice, resident_code))

    def flush(self) -> None:
        conn = self.repo.conn
        if self.inserts:
            conn.execute(insert(_i), self.inserts)
        if self.updates:
            conn.execute(_UPDATE, self.updates)
        if self.receipts:
            conn.execute(insert(t.received), self.receipts)
        if self.forwards:
            first = self.repo.next_number("forward", len(self.forwards))
            now = datetime.now(UTC)
            rows = [
                {
                    "seq": first + k,
                    "resident_code": code,
                    "notice": json.dumps(notice | {"seq": first + k}, ensure_ascii=False),
                    "state": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for k, (notice, code) in enumerate(self.forwards)
            ]
            conn.execute(insert(_f), rows)
        self.inserts, self.updates, self.receipts, self.forwards = [], [], [], []


def network_runs(engine: Engine) -> NetworkRuns:
    """The factory a Juki-net server's service takes: one transaction on ``engine`` per call."""

    @contextmanager
    def run() -> Iterator[SqlNetwork]:
        try:
            with engine.begin() as conn:
                yield SqlNetwork(conn)
        except IntegrityError as exc:
            raise SameRowsAtOnce(str(exc.orig)) from exc

    return run
