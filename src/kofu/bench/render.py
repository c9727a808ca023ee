"""``kofu bench render``: documents per second per type on one core, against the plain way.

The plain way is what a straightforward renderer does: reportlab drawing the
same page from scratch for each document, parsing and registering the
embedded font (and drawing the seal image) anew every time.  Both ways are
timed in the same run, interleaved, so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import CertificateType, Document, IssueRequest
from kofu.city.domain.issuance import compose
from kofu.city.services.events import apply_events
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.documents.render import render, render_plain

__all__ = ["bench_render"]

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


def _documents(tmp: Path) -> dict[str, Document]:
    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code="112186", residents=3000, seed=1, today=date(2026, 11, 23))
    with CityUnitOfWork(engine) as uow:
        holder = uow.registers.sample_holder()
        other = uow.registers.residents(limit=1)[0]
    assert holder is not None
    leave = {
        "kind": "death",
        "resident": other.resident_code
        if other.resident_code != holder.resident_code
        else holder.resident_code,
        "effective": "2026-11-01",
    }
    apply_events(uow=CityUnitOfWork(engine), events=[leave], clock=FixedClock(NOW))
    docs = {}
    with CityUnitOfWork(engine) as uow:
        city = uow.city()
        for kind in CertificateType:
            who = other.resident_code if kind is CertificateType.JOHYO else holder.resident_code
            household = "all" if kind is CertificateType.JUMINHYO else None
            req = IssueRequest.parse(type=kind.value, resident_code=who, household=household)
            docs[kind.value] = compose(uow.registers, city, req, now=NOW, issue_number=1)
    engine.dispose()
    return docs


def _rate(fn: Callable[[Document], bytes], doc: Document, seconds: float, at_least: int) -> float:
    count, start = 0, time.perf_counter()
    while count < at_least or time.perf_counter() - start < seconds:
        fn(doc)
        count += 1
        if count >= 10_000:
            break
    return count / (time.perf_counter() - start)


def bench_render(*, seconds: float = 2.0, only: str | None = None) -> dict[str, Any]:
    """Per type: documents per second, the plain way's rate, and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        docs = _documents(Path(tmp))
    render(docs["juminhyo"])  # warm: fonts parsed once per process, as a service does
    results = {}
    for name, doc in docs.items():
        if only is not None and name != only:
            continue
        ours = _rate(render, doc, seconds, 5)
        plain = _rate(render_plain, doc, seconds / 2, 3)
        results[name] = {
            "docs_per_second": round(ours, 1),
            "plain_docs_per_second": round(plain, 1),
            "ratio": round(ours / plain, 2),
            "bytes": len(render(doc)),
        }
    ratios = [r["ratio"] for r in results.values()]
    return {"types": results, "min_ratio": min(ratios), "target_ratio": 3.0}
