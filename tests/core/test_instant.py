"""An instant written from the JST clock reads back as the same instant on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, select
from sqlalchemy.exc import StatementError

from kofu.core.clock import JST
from kofu.core.instant import Instant
from stores import BACKENDS, fresh_store

_meta = MetaData()
_times = Table("times", _meta, Column("id", Integer, primary_key=True), Column("at", Instant()))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_store(request.param, tmp_path, "juki") as store:
        _meta.create_all(store)
        yield store


def test_a_jst_instant_reads_back_as_the_same_instant(engine: Engine) -> None:
    noon = datetime(2026, 11, 24, 12, 10, tzinfo=JST)
    with engine.begin() as conn:
        conn.execute(insert(_times).values(id=1, at=noon))
        back = conn.execute(select(_times.c.at)).scalar_one()
        later = conn.execute(select(_times.c.id).where(_times.c.at > noon)).all()
    assert back == noon and back.tzinfo == UTC  # not 12:10 UTC, nine hours late
    assert later == []


def test_a_time_without_its_zone_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="needs its time zone"), engine.begin() as conn:
        conn.execute(insert(_times).values(id=2, at=datetime(2026, 11, 24, 12, 10)))
