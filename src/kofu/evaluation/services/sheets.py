"""Indicators and evaluation sheets for one city's programme and fiscal year."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from kofu.core.errors import InvalidInput, NotFound
from kofu.evaluation.adapters.config import load_programme
from kofu.evaluation.adapters.store import StoreFacts
from kofu.evaluation.domain.indicators import CATALOGUE
from kofu.evaluation.domain.sheet import Valuer, build_sheet

__all__ = ["drill_down", "indicators", "sheet"]


def _fiscal_year(fy: int) -> int:
    if not 2000 <= fy <= 2100:
        raise InvalidInput("fiscal year is 2000 to 2100 (2023 = 令和5年度)", field="fiscal_year")
    return fy


def indicators(engine: Engine, home: Path, city: str, programme: str, fy: int) -> dict[str, Any]:
    """Every catalogue indicator the log can count for fiscal year ``fy``, with its records."""
    p = load_programme(home, city, programme)
    valuer = Valuer(StoreFacts(engine), p)
    live = {s.id: s.live_from for s in p.indicators}
    out = []
    for ind, d in CATALOGUE.items():
        if d.kind == "cost" and ind != "COST-07":
            continue
        v = valuer.value(ind, _fiscal_year(fy), live.get(ind))
        value = v.value
        out.append(
            {
                "id": ind,
                "key": d.key,
                "label": d.label,
                "unit": d.unit,
                "value": float(value) if value is not None and d.unit in ("%", "人") else value,
                "display": v.display,
                "records": v.records,
                "drill_down": v.drill,
                "on_sheet": ind in live,
                "not_computed": v.reason or None,  # why there is no value (a missing input)
            }
        )
    return {"city": city, "programme": programme, "fiscal_year": fy, "indicators": out}


def drill_down(
    engine: Engine, home: Path, city: str, programme: str, fy: int, ind: str, limit: int
) -> dict[str, Any]:
    """The records an indicator counts in fiscal year ``fy`` (at most ``limit``)."""
    if ind not in CATALOGUE:
        raise NotFound(f"no indicator {ind}", field="drill")
    p = load_programme(home, city, programme)
    v = Valuer(StoreFacts(engine), p).value(ind, _fiscal_year(fy))
    if "kind" not in v.drill:
        raise InvalidInput(f"{ind} is not counted from records", field="drill")
    rows = StoreFacts(engine).records(v.drill, max(1, min(limit, 10_000)))
    return {"id": ind, "fiscal_year": fy, "value": v.display, "filter": v.drill, "records": rows}


def sheet(
    engine: Engine, home: Path, city: str, programme: str, fy: int, today: date
) -> dict[str, Any]:
    """The sheet's data: what ``kofu evaluation --json`` prints and the renderers draw."""
    p = load_programme(home, city, programme)
    return build_sheet(StoreFacts(engine), p, _fiscal_year(fy), today)
