"""juki's directory in memory, on SQLite and PostgreSQL: reports are idempotent, moves follow."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fakes.juki import MemoryJuki
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, NotFound
from kofu.core.identifiers import individual_number_check_digit, resident_code_check_digit
from kofu.juki.adapters.uow import juki_units
from kofu.juki.services.directory import JukiDirectory
from stores import BACKENDS, fresh_store

HANAMAKI, FUKAYA = "032051", "112186"
CLOCK = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))


def code(n: int) -> str:
    base = f"{n:010d}"
    return base + str(resident_code_check_digit(base))


def number(n: int) -> str:
    base = f"{n:011d}"
    return base + str(individual_number_check_digit(base))


def report(
    n: int, city: str, *, state: str = "resident", version: int = 1, **changes: Any
) -> dict[str, Any]:
    return {
        "resident_code": code(n),
        "individual_number": number(n),
        "name": f"花巻　太郎{n}",
        "birth_date": "1980-04-01",
        "sex": "male",
        "address": "岩手県花巻市花城町9番30号",
        "city": city,
        "state": state,
        "version": version,
        "since": "2020-04-01",
    } | changes


@pytest.fixture(params=["memory", *BACKENDS])
def juki(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JukiDirectory]:
    """The directory on the in-memory fake (the rules), SQLite and PostgreSQL (the storage)."""
    if request.param == "memory":
        yield JukiDirectory(MemoryJuki(), CLOCK)
        return
    with fresh_store(request.param, tmp_path, "juki") as engine:
        yield JukiDirectory(juki_units(engine), CLOCK)


def test_a_report_is_stored_once_however_often_it_is_sent(juki: JukiDirectory) -> None:
    batch = [report(n, HANAMAKI) for n in range(1, 6)]
    assert juki.receive(HANAMAKI, batch) == {"stored": 5, "replaced": 0, "unchanged": 0}
    assert juki.receive(HANAMAKI, batch) == {"stored": 0, "replaced": 0, "unchanged": 5}
    assert juki.count() == 5
    held = juki.whereabouts(code(3))
    assert (held["city"], held["state"], held["name"]) == (HANAMAKI, "resident", "花巻　太郎3")


def test_a_move_follows_the_person_in_whatever_order_the_cities_report(
    juki: JukiDirectory,
) -> None:
    juki.receive(HANAMAKI, [report(1, HANAMAKI), report(2, HANAMAKI)])
    # person 1: the new city reports the move-in before the old one reports the move-out
    juki.receive(FUKAYA, [report(1, FUKAYA, since="2026-11-01", address="埼玉県深谷市仲町11番1号")])
    assert juki.whereabouts(code(1))["city"] == FUKAYA
    juki.receive(HANAMAKI, [report(1, HANAMAKI, state="moved_out", version=2, since="2026-11-01")])
    assert juki.whereabouts(code(1))["city"] == FUKAYA
    # an older version arriving late changes nothing
    late = juki.receive(HANAMAKI, [report(1, HANAMAKI, version=1)])
    assert late["unchanged"] == 1
    assert juki.whereabouts(code(1))["city"] == FUKAYA
    # person 2 moved out of the country: the removed record is the holding one
    juki.receive(HANAMAKI, [report(2, HANAMAKI, state="moved_out", version=3, since="2026-10-01")])
    held = juki.whereabouts(code(2))
    assert (held["city"], held["state"], held["since"]) == (HANAMAKI, "moved_out", "2026-10-01")


def test_a_bad_record_refuses_the_whole_batch_and_names_it(juki: JukiDirectory) -> None:
    broken = report(2, HANAMAKI, resident_code=code(2)[:-1] + str((int(code(2)[-1]) + 1) % 10))
    with pytest.raises(InvalidInput, match=r"record 2: .*check digit"):
        juki.receive(HANAMAKI, [report(1, HANAMAKI), broken, report(3, HANAMAKI)])
    with pytest.raises(InvalidInput, match=r"record 1: .*sex"):
        juki.receive(HANAMAKI, [report(1, HANAMAKI, sex="unknown")])
    with pytest.raises(InvalidInput, match="record 1: city 112186"):
        juki.receive(HANAMAKI, [report(1, FUKAYA)])
    with pytest.raises(InvalidInput, match="1 to 1000"):
        juki.receive(HANAMAKI, [])
    assert juki.count() == 0


def test_an_individual_number_carried_by_another_person_is_refused(juki: JukiDirectory) -> None:
    juki.receive(HANAMAKI, [report(1, HANAMAKI)])
    twin = report(2, FUKAYA, individual_number=number(1))
    with pytest.raises(Conflict, match="belongs to another person"):
        juki.receive(FUKAYA, [report(3, FUKAYA), twin])
    assert juki.count() == 1


def test_unknown_and_malformed_resident_codes(juki: JukiDirectory) -> None:
    with pytest.raises(NotFound, match="no city has reported"):
        juki.whereabouts(code(99))
    with pytest.raises(InvalidInput):
        juki.whereabouts("12345")
