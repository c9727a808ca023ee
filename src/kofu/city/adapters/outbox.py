"""The city's outbox: messages to other parties, kept in the same transaction as their cause."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.domain.ports import OutboxMessage

__all__ = ["OutboxMessage", "SqlOutbox"]


class SqlOutbox:
    """Add messages with the change that causes them; mark them delivered one by one."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, *, target: str, kind: str, payload: dict[str, Any], at: datetime) -> str:
        message_id = str(uuid.uuid4())
        self.conn.execute(
            insert(t.outbox).values(
                message_id=message_id,
                created_at=at,
                target=target,
                kind=kind,
                payload=json.dumps(payload, ensure_ascii=False),
                attempts=0,
            )
        )
        return message_id

    def pending(self, target: str, limit: int = 100) -> list[OutboxMessage]:
        rows = self.conn.execute(
            select(t.outbox)
            .where(t.outbox.c.target == target, t.outbox.c.delivered_at.is_(None))
            .order_by(t.outbox.c.created_at, t.outbox.c.message_id)
            .limit(limit)
        )
        return [
            OutboxMessage(r.message_id, r.target, r.kind, json.loads(r.payload), r.attempts)
            for r in rows
        ]

    def pending_targets(self, prefix: str) -> list[str]:
        """The targets starting with ``prefix`` that have undelivered messages, without it."""
        rows = self.conn.execute(
            select(t.outbox.c.target)
            .where(t.outbox.c.target.startswith(prefix), t.outbox.c.delivered_at.is_(None))
            .distinct()
        )
        return sorted(r[0][len(prefix) :] for r in rows)

    def delivered(self, message_id: str, at: datetime) -> None:
        self.conn.execute(
            update(t.outbox).where(t.outbox.c.message_id == message_id).values(delivered_at=at)
        )

    def failed(self, message_id: str, error: str) -> None:
        self.conn.execute(
            update(t.outbox)
            .where(t.outbox.c.message_id == message_id)
            .values(attempts=t.outbox.c.attempts + 1, last_error=error[:500])
        )
