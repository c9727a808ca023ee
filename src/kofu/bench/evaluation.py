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
    """Insert ``records`` rows spread over ten years and four kinds, in SQL; seconds taken.

    The rows are a cross join of the ten years' days with enough repetitions,
    so the database makes them without a round trip or a row-by-row
    recursion (PostgreSQL: ``generate_series``; SQLite: two small tables).
    """
    started = time.perf_counter()
    with engine.begin() as conn:  # a bulk load: the index is built once, after the rows
        conn.execute(text("DROP INDEX ix_activity_log_kind_day"))
        if engine.dialect.name == "postgresql":
            conn.execute(text(_insert(_pg_rows(records))))
        else:
            for statement in _sqlite_tables(records):
                conn.execute(text(statement))
            conn.execute(
                text(
                    _insert(
                        "SELECT i, j, day, at FROM bench_reps CROSS JOIN bench_days"
                        f" LIMIT {records}"
                    )
                )
            )
        conn.execute(text("CREATE INDEX ix_activity_log_kind_day ON activity_log (kind, day)"))
        rebuild_daily(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE activity_daily"))
            conn.commit()
    return time.perf_counter() - started


def _pg_rows(records: int) -> str:
    return (
        f"SELECT n % {_DAYS} AS i, n / {_DAYS} AS j, (DATE '2016-04-01' + (n % {_DAYS})) AS day,"
        f" ((DATE '2016-04-01' + (n % {_DAYS}))::timestamp AT TIME ZONE 'Asia/Tokyo') AS at"
        f" FROM generate_series(0, {records - 1}) AS n"
    )


def _sqlite_tables(records: int) -> list[str]:
    reps = -(-records // _DAYS)
    return [
        "CREATE TEMP TABLE bench_days (i INTEGER PRIMARY KEY, day TEXT, at TEXT)",
        "INSERT INTO bench_days WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s"
        f" WHERE i < {_DAYS - 1}) SELECT i, date('2016-04-01', '+' || i || ' days'),"
        " date('2016-04-01', '+' || i || ' days') || ' 00:00:00.000000' FROM s",
        "CREATE TEMP TABLE bench_reps (j INTEGER PRIMARY KEY)",
        "INSERT INTO bench_reps WITH RECURSIVE s(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM s"
        f" WHERE j < {reps - 1}) SELECT j FROM s",
    ]


def _insert(rows: str) -> str:
    """INSERT … SELECT over ``rows`` (i: day number, j: repetition, day, at)."""
    kinds = " ".join(f"WHEN {n} THEN '{k}'" for n, k in enumerate(_KINDS))
    return (
        "INSERT INTO activity_log (kind, occurred_at, day, count, channel, doc_type, role, cause,"
        " copies, fee_yen, programme, origin, recorded_at) "
        f"SELECT CASE (i + j) % 4 {kinds} END, at, day, 1,"
        " CASE WHEN (i + j) % 8 = 1 THEN 'store' ELSE 'counter' END, 'juminhyo',"
        " CASE WHEN (i + j) % 4 = 2 THEN 'issuing' ELSE '' END, '', 1, 300, '', 'import', at"
        f" FROM ({rows}) AS g"
    )


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
