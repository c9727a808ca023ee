"""A store print confirmed at the center reaches the city's activity log within a second."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from center_world import center_for, make_world, sign_in
from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.contracts.store import IssueOptions


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_world(tmp_path_factory.mktemp("print_count"))


def _store_counts(engine: Engine) -> list[tuple[Any, ...]]:
    d = t.activity_daily
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(d.c.day, d.c.doc_type, d.c.n, d.c.copies, d.c.fee_yen).where(
                    d.c.kind == "certificate.issued", d.c.channel == "store"
                )
            )
        ]


def _request(center: Any, world: dict[str, Any], request_id: str) -> Any:
    return center.request(
        session=sign_in(center, world),
        request_id=request_id,
        certificate="juminhyo",
        options=IssueOptions(),
        copies=2,
        store="7-0001",
        chain="seven",
    )


def test_a_confirmed_print_counts_within_a_second_and_once(world: dict[str, Any]) -> None:
    center = center_for(world)
    _request(center, world, "store-eval-000001")
    assert _store_counts(world["city"]) == []  # rendered, not yet printed: nothing counts
    center.printed("store-eval-000001")
    deadline = time.monotonic() + 1.0
    while not _store_counts(world["city"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _store_counts(world["city"]) == [(date(2026, 11, 24), "juminhyo", 1, 2, 400)]
    center.printed("store-eval-000001")  # confirmed again: still counted once
    time.sleep(0.3)
    assert _store_counts(world["city"]) == [(date(2026, 11, 24), "juminhyo", 1, 2, 400)]


def test_a_voided_print_never_counts(world: dict[str, Any], tmp_path: Path) -> None:
    center = center_for(world)
    before = _store_counts(world["city"])
    _request(center, world, "store-eval-000002")
    center.voided("store-eval-000002", "paper jam")
    time.sleep(0.3)
    assert _store_counts(world["city"]) == before
