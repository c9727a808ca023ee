"""The sheet's facts read from a city's store: daily sums by day range, finance lines, records."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.evaluation.domain.indicators import Tally
from kofu.evaluation.domain.sheet import FinanceLine

__all__ = ["StoreFacts"]

_d = t.activity_daily
_l = t.activity_log
_KEYS = (_d.c.kind, _d.c.channel, _d.c.doc_type, _d.c.role, _d.c.cause, _d.c.programme)


class StoreFacts:
    """Reads ``activity_daily`` (one grouped query per day range) and the log itself."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tallies(self, start: date, end: date) -> list[Tally]:
        query = (
            select(
                *_KEYS,
                func.sum(_d.c.n),
                func.sum(_d.c.copies),
                func.sum(_d.c.fee_yen),
                func.sum(_d.c.records),
            )
            .where(_d.c.day >= start, _d.c.day <= end)
            .group_by(*_KEYS)
        )
        with self.engine.connect() as conn:
            return [
                Tally(
                    r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7]), int(r[8]), int(r[9])
                )
                for r in conn.execute(query)
            ]

    def finance(self, programme: str) -> list[FinanceLine]:
        query = select(_l.c.id, _l.c.fee_yen, _l.c.detail, _l.c.voids, _l.c.role).where(
            _l.c.kind == "finance.amount_recorded", _l.c.programme == programme
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        details = {r.id: json.loads(r.detail or "{}") for r in rows}
        out = []
        for r in rows:
            d = details[r.voids] if r.voids is not None else details[r.id]
            out.append(
                FinanceLine(
                    fiscal_year=int(d["fiscal_year"]),
                    stage=str(d["stage"]),
                    source=r.role or "expense",
                    amount_yen=int(r.fee_yen),
                    setsu=str(d.get("setsu", "")),
                    setsu_name=str(d.get("setsu_name", "")),
                    item=str(d.get("item", "")),
                )
            )
        return out

    def population(self, on: date) -> int:
        """住民基本台帳人口 on ``on``: became a resident by then and not removed by then."""
        day = on.isoformat()
        count = 0
        with self.engine.connect() as conn:
            for (data,) in conn.execute(select(t.residents.c.data)).yield_per(5000):
                record = json.loads(data)
                since, removed = record.get("became_resident_on"), record.get("removed_on")
                if since is not None and since <= day and (removed is None or removed > day):
                    count += 1
        return count

    def records(self, where: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """The log's records behind an indicator (its drill-down filter), oldest first."""
        query = select(_l).where(_l.c.kind == where["kind"])
        for name in ("channel", "doc_type", "role", "cause"):
            if name in where:
                query = query.where(getattr(_l.c, name).in_(where[name]))
        if "programme" in where:
            query = query.where(_l.c.programme == where["programme"])
        if "from" in where:
            query = query.where(_l.c.day >= date.fromisoformat(where["from"]))
        if "to" in where:
            query = query.where(_l.c.day <= date.fromisoformat(where["to"]))
        query = query.order_by(_l.c.day, _l.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [
                {
                    k: (v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in dict(r._mapping).items()
                    if k != "detail"
                }
                | {"detail": json.loads(r.detail) if r.detail else None}
                for r in conn.execute(query)
            ]
