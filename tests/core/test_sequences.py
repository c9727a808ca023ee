"""The named sequences of every store that keeps one (city, juki) give no number twice,
even on a sequence's first use in two transactions at once (one shared mechanism).

Under load on PostgreSQL two card issuances both found no counter row and both inserted
it: the second failed on the primary key and the card was not issued.  The first use is
an upsert now; the second transaction waits for the first and takes the next number.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table

from kofu.city.adapters import tables as city_tables
from kofu.core.db import next_in_sequence
from kofu.juki.adapters import tables as juki_tables
from stores import BACKENDS, fresh_store

PARTIES = [("city", city_tables.counters), ("juki", juki_tables.counters)]


def _take(engine: Engine, counters: Table, name: str, count: int = 1) -> int:
    with engine.begin() as conn:
        return next_in_sequence(conn, counters, name, count)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("party", "counters"), PARTIES)
def test_numbers_follow_on(backend: str, party: str, counters: Table, tmp_path: Path) -> None:
    with fresh_store(backend, tmp_path, party) as engine:
        assert _take(engine, counters, "seq") == 1
        assert _take(engine, counters, "seq", 3) == 2
        assert _take(engine, counters, "seq") == 5
        assert _take(engine, counters, "other") == 1


@pytest.mark.postgres
@pytest.mark.parametrize(("party", "counters"), PARTIES)
def test_two_first_uses_at_once_take_different_numbers(
    party: str, counters: Table, tmp_path: Path
) -> None:
    with fresh_store("postgresql", tmp_path, party) as engine:
        taken: list[int | BaseException] = []
        with engine.begin() as first:
            assert next_in_sequence(first, counters, "fresh") == 1  # inserted, not committed

            def second() -> None:
                try:
                    taken.append(_take(engine, counters, "fresh"))
                except BaseException as exc:  # the failure is what is checked
                    taken.append(exc)

            racer = threading.Thread(target=second)
            racer.start()
            racer.join(timeout=1.0)
            assert racer.is_alive(), "the second use should wait for the first to commit"
        racer.join(timeout=30)
        assert taken == [2]
        assert _take(engine, counters, "fresh") == 3
