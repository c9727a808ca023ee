"""``kofu bench evaluation``: a sheet over a log of millions of records, on SQLite and PostgreSQL.

The log is built in SQL (one INSERT … SELECT over a generated series, no
round trips), its daily sums rebuilt in one GROUP BY, then the Fukaya sheet
is computed from the daily sums: what is timed is the sheet, not the load.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from kofu.city.adapters.activity import rebuild_daily
from kofu.core.db import make_engine, migrate
from kofu.evaluation.services.sheets import sheet

__all__ = ["bench_evaluation"]

_KINDS = (
    "card.issued",
    "certificate.issued",
    "widearea_juminhyo.issued",
    "card.application_received",
)
_DAYS = 3650  # ten years of days from 2016-04-01


def _fill(engine: Engine, records: int) -> float:
    """Insert ``records`` rows spread over ten years and four kinds, in SQL; seconds taken."""
    started = time.perf_counter()
    kinds = "CASE n % 4 " + " ".join(f"WHEN {i} THEN '{k}'" for i, k in enumerate(_KINDS)) + " END"
    if engine.dialect.name == "postgresql":
        series = f"SELECT n FROM generate_series(0, {records - 1}) AS n"
        day = f"(DATE '2016-04-01' + (n % {_DAYS}))"
        at = f"({day}::timestamp AT TIME ZONE 'Asia/Tokyo')"
    else:
        series = (
            "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL "
            f"SELECT n + 1 FROM s WHERE n < {records - 1}) SELECT n FROM s"
        )
        day = f"date('2016-04-01', '+' || (n % {_DAYS}) || ' days')"
        at = f"({day} || ' 00:00:00.000000')"
    sql = (
        "INSERT INTO activity_log (kind, occurred_at, day, count, channel, doc_type, role, cause,"
        " copies, fee_yen, programme, origin, recorded_at) "
        f"SELECT {kinds}, {at}, {day}, 1, CASE WHEN n % 8 = 1 THEN 'store' ELSE 'counter' END,"
        " 'juminhyo', CASE WHEN n % 4 = 2 THEN 'issuing' ELSE '' END, '', 1, 300, '', 'import',"
        f" {at} FROM ({series}) AS g"
    )
    with engine.begin() as conn:  # a bulk load: the index is built once, after the rows
        conn.execute(text("DROP INDEX ix_activity_log_kind_day"))
        conn.execute(text(sql))
        conn.execute(text("CREATE INDEX ix_activity_log_kind_day ON activity_log (kind, day)"))
        rebuild_daily(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE activity_daily"))
            conn.commit()
    return time.perf_counter() - started


def _one(engine: Engine, records: int, home: Path) -> dict[str, Any]:
    migrate(engine, "city")
    load = _fill(engine, records)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        data = sheet(engine, home, "112186", "16231", 2023, date(2026, 12, 7))
        timings.append(time.perf_counter() - started)
    return {
        "records": records,
        "load_seconds": round(load, 1),
        "sheet_seconds": round(min(timings), 3),
        "sheet_seconds_first": round(timings[0], 3),
        "IND-01": data["figures"]["IND-01"]["2023"],
    }


def bench_evaluation(records: int, postgres_url: str | None) -> dict[str, Any]:
    """The same log and sheet on SQLite, then on PostgreSQL when a URL is given."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        engine = make_engine(f"sqlite:///{home / 'bench.sqlite'}")
        try:
            out["sqlite"] = _one(engine, records, home)
        finally:
            engine.dispose()
        if postgres_url:
            schema = f"bench_eval_{secrets.token_hex(4)}"
            engine = make_engine(postgres_url, schema)
            try:
                out["postgresql"] = _one(engine, records, home)
            finally:
                with engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                engine.dispose()
    return out
