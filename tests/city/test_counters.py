"""A named sequence's numbers are never given twice, even on its first use in two transactions.

Under load on PostgreSQL two card issuances both found no counter row and both inserted it:
the second failed on the primary key and the card was not issued.  The first use is an
upsert now; the second transaction waits for the first and takes the next number.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.repository import SqlRegisters
from stores import BACKENDS, fresh_store


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_store(request.param, tmp_path, "city") as engine:
        yield engine


def _take(engine: Engine, name: str, count: int = 1) -> int:
    with engine.begin() as conn:
        return SqlRegisters(conn).next_number(name, count)


def test_numbers_follow_on_from_the_first_use(engine: Engine) -> None:
    assert _take(engine, "card_serial") == 1
    assert _take(engine, "card_serial", 3) == 2
    assert _take(engine, "card_serial") == 5
    assert _take(engine, "other") == 1


@pytest.mark.postgres
def test_two_first_uses_at_once_on_postgresql_take_different_numbers(tmp_path: Path) -> None:
    with fresh_store("postgresql", tmp_path, "city") as engine:
        taken: list[int | BaseException] = []
        with engine.begin() as first:
            assert SqlRegisters(first).next_number("fresh") == 1  # inserted, not yet committed

            def second() -> None:
                try:
                    taken.append(_take(engine, "fresh"))
                except BaseException as exc:  # the failure is what is checked
                    taken.append(exc)

            racer = threading.Thread(target=second)
            racer.start()
            racer.join(timeout=1.0)
            assert racer.is_alive(), "the second use should wait for the first to commit"
        racer.join(timeout=30)
        assert taken == [2]
        assert _take(engine, "fresh") == 3
