"""The city's records of Juki-net services: wide-area requests, move-out data, move-ins.

Never commits (the unit of work does).  A row under a request id or a move-out
id is written once: a second insert raises ``Conflict``, so two workers (or a
retry racing its original) can never both act on one id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.city.adapters import tables as t
from kofu.core.errors import Conflict

__all__ = ["KeptWideArea", "SqlCitylink"]


@dataclass(frozen=True)
class KeptWideArea:
    """One wide-area certificate as one of the two cities recorded it."""

    request_id: str
    role: str  # issuing or home
    issuing_city: str
    home_city: str
    resident_code: str
    issued_on: date
    state: str
    reason: str | None
    issue_number: int | None
    request_digest: str
    answer: dict[str, Any]


class SqlCitylink:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- wide-area certificates ---------------------------------------------------------

    def wide_area(self, request_id: str, role: str) -> KeptWideArea | None:
        c = t.citylink_requests.c
        row = self.conn.execute(
            select(t.citylink_requests).where(c.request_id == request_id, c.role == role)
        ).first()
        if row is None:
            return None
        return KeptWideArea(
            request_id=row.request_id,
            role=row.role,
            issuing_city=row.issuing_city,
            home_city=row.home_city,
            resident_code=row.resident_code,
            issued_on=row.issued_on,
            state=row.state,
            reason=row.reason,
            issue_number=row.issue_number,
            request_digest=row.request_digest,
            answer=json.loads(row.answer),
        )

    def keep_wide_area(self, kept: KeptWideArea, at: datetime) -> None:
        values = {k: v for k, v in kept.__dict__.items() if k != "answer"}
        values["answer"] = json.dumps(kept.answer, ensure_ascii=False)
        try:
            self.conn.execute(insert(t.citylink_requests).values(**values, at=at))
        except IntegrityError as exc:
            raise Conflict(
                f"request id {kept.request_id} is being answered by another worker; ask again",
                field="request_id",
            ) from exc

    def wide_area_counts(self, since: date, until: date) -> list[dict[str, Any]]:
        """Issued wide-area certificates per role and other city, for the statistics."""
        c = t.citylink_requests.c
        rows = self.conn.execute(
            select(c.role, c.issuing_city, c.home_city, func.count())
            .where(c.state == "issued", c.issued_on >= since, c.issued_on <= until)
            .group_by(c.role, c.issuing_city, c.home_city)
            .order_by(c.role, c.issuing_city, c.home_city)
        )
        return [
            {"role": r[0], "issuing_city": r[1], "home_city": r[2], "count": r[3]} for r in rows
        ]

    # --- move-out data (the old city's side) ------------------------------------------------

    def keep_move_out(
        self, move_out_id: str, resident_code: str, to_city: str, data: dict[str, Any], at: datetime
    ) -> None:
        self.conn.execute(
            insert(t.move_outs).values(
                move_out_id=move_out_id,
                resident_code=resident_code,
                to_city=to_city,
                state="planned",
                data=json.dumps(data, ensure_ascii=False),
                created_at=at,
            )
        )

    def move_out_of(self, resident_code: str) -> dict[str, Any] | None:
        """The newest move-out data naming this person (as the requester or a member)."""
        c = t.move_outs.c
        rows = self.conn.execute(
            select(c.data, c.state)
            .where(c.data.contains(f'"{resident_code}"'))  # an index's worth of narrowing
            .order_by(c.created_at.desc())
        ).all()
        for row in rows:
            data: dict[str, Any] = json.loads(row.data)
            if any(m["resident_code"] == resident_code for m in data["members"]):
                data["state"] = row.state
                return data
        return None

    def move_out(self, move_out_id: str) -> dict[str, Any] | None:
        """The data's state, destination and when a move-in closed it."""
        c = t.move_outs.c
        row = self.conn.execute(
            select(c.state, c.to_city, c.closed_at).where(c.move_out_id == move_out_id)
        ).first()
        if row is None:
            return None
        return {"state": row.state, "to_city": row.to_city, "closed_at": row.closed_at}

    def close_move_out(self, move_out_id: str, at: datetime) -> bool:
        """Mark the data used by a move-in; False when it was already."""
        c = t.move_outs.c
        done = self.conn.execute(
            update(t.move_outs)
            .where(c.move_out_id == move_out_id, c.state == "planned")
            .values(state="moved_in", closed_at=at)
        )
        return done.rowcount == 1

    # --- move-ins (the new city's side) ---------------------------------------------------

    def move_in(self, move_out_id: str) -> dict[str, Any] | None:
        c = t.move_ins.c
        row = self.conn.execute(select(t.move_ins).where(c.move_out_id == move_out_id)).first()
        if row is None:
            return None
        return {
            "move_out_id": row.move_out_id,
            "from_city": row.from_city,
            "moved_on": row.moved_on,
            "residents": json.loads(row.residents),
            "at": row.at,
        }

    def keep_move_in(
        self, move_out_id: str, from_city: str, moved_on: date, residents: list[str], at: datetime
    ) -> None:
        try:
            self.conn.execute(
                insert(t.move_ins).values(
                    move_out_id=move_out_id,
                    from_city=from_city,
                    moved_on=moved_on,
                    residents=json.dumps(residents),
                    at=at,
                )
            )
        except IntegrityError as exc:
            raise Conflict(
                "this move-out data has already been used for a move-in", field="move_out_id"
            ) from exc
