"""``kofu bench seed``: time to build a 150,000-resident city, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kofu.city.services.seeding import seed_city
from kofu.core.db import make_engine, migrate

__all__ = ["bench_seed"]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _one(url: str, schema: str | None, code: str, residents: int, seed: int) -> dict[str, Any]:
    engine = make_engine(url, schema)
    try:
        migrate(engine, "city")
        start = time.perf_counter()
        report = seed_city(
            engine=engine, code=code, residents=residents, seed=seed, today=date(2026, 11, 23)
        )
        seconds = time.perf_counter() - start
    finally:
        if schema:
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
    return {
        "residents": report["residents"],
        "households": report["households"],
        "rows": sum(v for k, v in report.items() if isinstance(v, int) and k != "households"),
        "seconds": round(seconds, 2),
        "residents_per_second": round(report["residents"] / seconds),
    }


def bench_seed(*, code: str, residents: int, seed: int, postgres_url: str | None) -> dict[str, Any]:
    """Seed on SQLite (a temporary file) and, when reachable, PostgreSQL (a throwaway schema)."""
    out: dict[str, Any] = {"city": code, "target_seconds": 60}
    with tempfile.TemporaryDirectory() as tmp:
        out["sqlite"] = _one(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", None, code, residents, seed)
    url = postgres_url or POSTGRES_URL
    try:
        out["postgresql"] = _one(url, f"bench_{secrets.token_hex(4)}", code, residents, seed)
    except Exception as exc:
        out["postgresql"] = {"skipped": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return out
