"""The answers kept under the center's request ids (see kofu.city.domain.store_requests)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.city.adapters import tables as t
from kofu.city.domain.store_requests import KeptAnswer, RequestIdTaken

__all__ = ["SqlStoreRequests"]

_s = t.store_requests
_GET = select(_s).where(_s.c.request_id == bindparam("b_request_id"))
_KEEP = insert(_s)


class SqlStoreRequests:
    """Read and keep answers; never commits (the unit of work does)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, request_id: str) -> KeptAnswer | None:
        row = self.conn.execute(_GET, {"b_request_id": request_id}).first()
        if row is None:
            return None
        return KeptAnswer(
            request_id=row.request_id,
            request_digest=row.request_digest,
            state=row.state,
            answer=json.loads(row.answer),
            pdf=None if row.pdf is None else bytes(row.pdf),
            issue_number=row.issue_number,
        )

    def answered(self, request_ids: Sequence[str]) -> dict[str, KeptAnswer]:
        """The kept answers under these ids, without their PDFs (a print's count needs none)."""
        found = select(_s.c.request_id, _s.c.state, _s.c.answer, _s.c.issue_number).where(
            _s.c.request_id.in_(list(request_ids))
        )
        return {
            row.request_id: KeptAnswer(
                request_id=row.request_id,
                request_digest="",
                state=row.state,
                answer=json.loads(row.answer),
                issue_number=row.issue_number,
            )
            for row in self.conn.execute(found)
        }

    def keep(self, kept: KeptAnswer, at: datetime) -> None:
        """Keep the answer; RequestIdTaken when one is kept already (the transaction is lost)."""
        try:
            self.conn.execute(
                _KEEP,
                {
                    "request_id": kept.request_id,
                    "request_digest": kept.request_digest,
                    "state": kept.state,
                    "answered_at": at,
                    "issue_number": kept.issue_number,
                    "answer": json.dumps(kept.answer, ensure_ascii=False),
                    "pdf": kept.pdf,
                },
            )
        except IntegrityError as exc:
            raise RequestIdTaken(kept.request_id) from exc
