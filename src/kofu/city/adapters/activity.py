"""The activity log in the city's store, with its daily sums kept in the same transaction.

``SqlActivityLog`` never commits: it writes inside the unit of work of the
operation it records, so the record and the work are both kept or neither.
Each append adds its counts to ``activity_daily`` (an upsert on the day and
qualifiers), which is what the evaluation sheets read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.domain.activity import Activity, Origin
from kofu.core.db import insert_in
from kofu.core.errors import Conflict, NotFound

__all__ = ["DAILY_KEYS", "SqlActivityLog", "rebuild_daily"]

_log = t.activity_log
_daily = t.activity_daily
DAILY_KEYS = ("day", "kind", "channel", "doc_type", "role", "cause", "programme")
_SUMS = ("n", "copies", "fee_yen", "records")


class SqlActivityLog:
    """Append, reverse and read the log; never commits (the unit of work does)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def append(self, activity: Activity, at: datetime | None = None) -> int | None:
        """Append one record; None when its ``ref`` was logged already (the same work again)."""
        if activity.ref is not None:
            return self.append_each([activity], at)[0]
        row = _row(activity, at or datetime.now(UTC))
        done = self.conn.execute(insert(_log).returning(_log.c.id), row).scalar_one()
        self._add_daily([_daily_delta(row, 1)])
        return int(done)

    def append_each(
        self, activities: Sequence[Activity], at: datetime | None = None
    ) -> list[int | None]:
        """Append many, each once under its ``ref``: one INSERT and one upsert of sums.

        What the center's confirmed prints need: many records at once, each
        possibly logged before (a notice sent again).  Returns each record's
        id in order, None for one whose ``ref`` was logged already.
        """
        if any(activity.ref is None for activity in activities):
            raise ValueError("append_each keeps records with a ref only")
        now = at or datetime.now(UTC)
        rows = [_row(activity, now) for activity in activities]
        first: dict[str, dict[str, Any]] = {}  # a ref named twice: its first row is the record
        for row in rows:
            first.setdefault(row["ref"], row)
        if not first:
            return []
        kept = list(first.values())
        made = {ref: ident for ident, ref in self.conn.execute(_insert_once(self.dialect), kept)}
        self._add_daily([_daily_delta(row, 1) for row in kept if row["ref"] in made])
        answered: list[int | None] = []
        for row in rows:  # the second of a ref is "already", as a ref logged before is
            answered.append(made.pop(row["ref"], None))
        return answered

    def append_many(self, activities: Sequence[Activity], at: datetime | None = None) -> int:
        """Append a batch (a history import) with one executemany and one upsert per key."""
        now = at or datetime.now(UTC)
        rows = [_row(a, now) for a in activities]
        for start in range(0, len(rows), 5000):
            self.conn.execute(insert(_log), rows[start : start + 5000])
        self._add_daily([_daily_delta(r, 1) for r in rows])
        return len(rows)

    def reverse(
        self, activity_id: int, reason: str, at: datetime | None = None, origin: str = "staff"
    ) -> int:
        """Cancel one record with a reversal row of negated counts on the original's day."""
        found = self.conn.execute(select(_log).where(_log.c.id == activity_id)).first()
        if found is None:
            raise NotFound(f"no activity {activity_id}", field="activity")
        original = dict(found._mapping)
        if original["voids"] is not None:
            raise Conflict(f"activity {activity_id} is itself a reversal", field="activity")
        taken = self.conn.execute(select(_log.c.id).where(_log.c.voids == activity_id)).first()
        if taken is not None:
            raise Conflict(f"activity {activity_id} was reversed already", field="activity")
        row = {k: v for k, v in original.items() if k not in ("id", "ref")}
        row |= {
            "count": -original["count"],
            "copies": -original["copies"],
            "fee_yen": -original["fee_yen"],
            "voids": activity_id,
            "origin": origin,
            "recorded_at": at or datetime.now(UTC),
            "detail": json.dumps({"reason": reason}, ensure_ascii=False),
        }
        new_id = self.conn.execute(insert(_log).values(**row).returning(_log.c.id)).scalar_one()
        self._add_daily([_daily_delta(row, -1)])
        return int(new_id)

    def _add_daily(self, deltas: Iterable[dict[str, Any]]) -> None:
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for d in deltas:
            key = tuple(d[k] for k in DAILY_KEYS)
            if key in merged:
                for s in _SUMS:
                    merged[key][s] += d[s]
            else:
                merged[key] = dict(d)
        if not merged:
            return
        self.conn.execute(_add_to_sums(self.dialect), list(merged.values()))

    def daily_sums(self, start: date, end: date) -> list[tuple[date, str, str, str, int, int]]:
        """(day, kind, channel, cause, n, copies) for every day in [start, end]."""
        d = _daily
        query = (
            select(d.c.day, d.c.kind, d.c.channel, d.c.cause, func.sum(d.c.n), func.sum(d.c.copies))
            .where(d.c.day >= start, d.c.day <= end)
            .group_by(d.c.day, d.c.kind, d.c.channel, d.c.cause)
        )
        return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in self.conn.execute(query)]

    def count_of(self, kind: str) -> int:
        """Net records of one kind (a quick check for tests and the dashboard)."""
        total = self.conn.execute(
            select(func.coalesce(func.sum(_daily.c.n), 0)).where(_daily.c.kind == kind)
        ).scalar_one()
        return int(total)


@cache
def _add_to_sums(dialect: str) -> Any:
    """The upsert of the daily sums, built once per dialect (it runs with every record)."""
    stmt = insert_in(dialect, _daily)
    return stmt.on_conflict_do_update(
        index_elements=list(DAILY_KEYS),
        set_={s: getattr(_daily.c, s) + getattr(stmt.excluded, s) for s in _SUMS},
    )


@cache
def _insert_once(dialect: str) -> Any:
    """INSERT … ON CONFLICT (ref) DO NOTHING RETURNING id, ref: the records new to the log."""
    stmt = insert_in(dialect, _log).on_conflict_do_nothing(
        index_elements=["ref"], index_where=_log.c.ref.isnot(None)
    )
    return stmt.returning(_log.c.id, _log.c.ref)


def _row(activity: Activity, at: datetime) -> dict[str, Any]:
    return {
        "kind": activity.kind.value,
        "occurred_at": activity.occurred_at,
        "day": activity.day,
        "count": activity.count,
        "channel": activity.channel,
        "doc_type": activity.doc_type,
        "role": activity.role,
        "cause": activity.cause,
        "copies": activity.copies,
        "fee_yen": activity.fee_yen,
        "programme": activity.programme,
        "origin": Origin(activity.origin).value,
        "ref": activity.ref,
        "voids": None,
        "recorded_at": at,
        "detail": json.dumps(activity.detail, ensure_ascii=False) if activity.detail else None,
    }


def _daily_delta(row: dict[str, Any], records: int) -> dict[str, Any]:
    day: date = row["day"]
    return {k: row[k] for k in DAILY_KEYS if k != "day"} | {
        "day": day,
        "n": row["count"],
        "copies": row["copies"],
        "fee_yen": row["fee_yen"],
        "records": records,
    }


def rebuild_daily(conn: Connection) -> int:
    """Recompute every daily sum from the log (after a bulk load made in SQL)."""
    conn.execute(_daily.delete())
    keys = [getattr(_log.c, k) for k in DAILY_KEYS]
    picked = select(
        *keys,
        func.sum(_log.c.count),
        func.sum(_log.c.copies),
        func.sum(_log.c.fee_yen),
        func.count() - 2 * func.count(_log.c.voids),  # a reversal counts one record less
    ).group_by(*keys)
    done = conn.execute(insert(_daily).from_select([*DAILY_KEYS, *_SUMS], picked))
    return int(done.rowcount or 0)
