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
from kofu.city.domain.certificates import CertificateType, IssueRequest
from kofu.city.domain.issuance import compose
from kofu.city.services.events import apply_events
from kofu.city.services.layout import certificate_of
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import KofuError
from kofu.documents.model import Certificate
from kofu.documents.render import render, render_plain

__all__ = ["bench_render"]

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=JST)
_PEOPLE = 100  # different people per type, drawn in turn: more than the renderer keeps


def _documents(tmp: Path, kinds: list[CertificateType]) -> dict[str, list[Certificate]]:
    """Up to ``_PEOPLE`` different people's documents of each type.

    Different people, because a renderer may keep what documents share (the
    form's words) but must draw each person's name and address anew: the
    same document over and over would measure only the first.
    """
    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code="112186", residents=3000, seed=1, today=date(2026, 11, 23))
    with CityUnitOfWork(engine) as uow:
        people = uow.registers.residents(limit=1200)
    gone = [p for p in people[-2 * _PEOPLE :] if p.is_resident]
    leave: list[dict[str, object]] = [  # 除票 need people who have left: some die on 2026-11-01
        {"kind": "death", "resident": p.resident_code, "effective": "2026-11-01"}
        for p in gone[:_PEOPLE]
    ]
    leave += [  # and 転出証明書 people who move out, on the same day
        {
            "kind": "move_out",
            "resident": p.resident_code,
            "effective": "2026-11-01",
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        }
        for p in gone[_PEOPLE:]
    ]
    apply_events(uow=CityUnitOfWork(engine), events=leave, clock=FixedClock(NOW))
    docs: dict[str, list[Certificate]] = {kind.value: [] for kind in kinds}
    with CityUnitOfWork(engine) as uow:
        city = uow.city()
        for kind in kinds:
            household = "all" if kind is CertificateType.JUMINHYO else None
            for person in people:
                if len(docs[kind.value]) == _PEOPLE:
                    break
                req = IssueRequest.parse(
                    type=kind.value, resident_code=person.resident_code, household=household
                )
                try:
                    doc = compose(uow.registers, city, req, now=NOW, issue_number=1)
                except KofuError:  # no seal, no tax record, register kept elsewhere...
                    continue
                docs[kind.value].append(certificate_of(doc))
    engine.dispose()
    return docs


def _rate(
    fn: Callable[[Certificate], bytes], docs: list[Certificate], seconds: float, at_least: int
) -> float:
    count, start = 0, time.perf_counter()
    while count < at_least or time.perf_counter() - start < seconds:
        fn(docs[count % len(docs)])
        count += 1
        if count >= 10_000:
            break
    return count / (time.perf_counter() - start)


def bench_render(*, seconds: float = 2.0, only: str | None = None) -> dict[str, Any]:
    """Per type: documents per second, the plain way's rate, and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        kinds = [k for k in CertificateType if only is None or k.value == only]
        docs = _documents(Path(tmp), kinds)
    render(next(iter(docs.values()))[0])  # warm: fonts parsed once per process, as a service does
    results = {}
    for name, some in docs.items():
        ours = _rate(render, some, seconds, 2 * len(some))
        plain = _rate(render_plain, some, seconds / 2, 3)
        results[name] = {
            "people": len(some),
            "docs_per_second": round(ours, 1),
            "plain_docs_per_second": round(plain, 1),
            "ratio": round(ours / plain, 2),
            "bytes": round(sum(len(render(doc)) for doc in some) / len(some)),
        }
    ratios = [r["ratio"] for r in results.values()]
    return {"types": results, "min_ratio": min(ratios), "target_ratio": 3.0}
