"""A resident's record as it stood on any past date, rebuilt from its stored versions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import Address, PlannedMoveOut, Resident, ResidentStatus
from kofu.city.services.events import apply_events
from kofu.city.services.queries import show_resident
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import InvalidInput, NotFound
from kofu.core.identifiers import ResidentCode

TODAY = date(2026, 11, 23)


LATE = date(2030, 1, 1)  # a "today" after every event of these tests


def _residents(engine: Engine) -> list[Resident]:
    with CityUnitOfWork(engine, today=TODAY) as uow:
        return uow.registers.residents()


def _current(engine: Engine, code: str, on: date) -> Resident:
    with CityUnitOfWork(engine, today=on) as uow:
        found = uow.registers.resident(code)
    assert found is not None
    return found


def _last_change(engine: Engine, code: str) -> date:
    with CityUnitOfWork(engine, today=TODAY) as uow:
        return uow.registers.history(code)[-1].effective


def _show(engine: Engine, code: str, as_of: date | None) -> dict[str, Any]:
    uow = CityUnitOfWork(engine, today=LATE)
    return show_resident(uow=uow, resident_code=code, as_of=as_of)


def _record(engine: Engine, code: str, as_of: date | None) -> Resident:
    return Resident.model_validate(_show(engine, code, as_of)["record"])


def _apply(engine: Engine, event: dict[str, Any]) -> str:
    """Apply one event on the day it is notified, as the clerk would."""
    today = date.fromisoformat(event.get("notified") or event["effective"])
    clock = FixedClock(datetime.combine(today, time(10), JST))
    changes = apply_events(uow=CityUnitOfWork(engine, today=today), events=[event], clock=clock)
    return changes[0].resident


def test_show_resident_reproduces_the_record_on_every_past_date(seeded_engine: Engine) -> None:
    person = next(
        p for p in _residents(seeded_engine) if p.relationship == "子" and p.age_on(TODAY) >= 18
    )
    code = person.resident_code
    timeline: list[tuple[date, Resident]] = [(_last_change(seeded_engine, code), person)]

    def step(effective: str, event: dict[str, Any]) -> Resident:
        _apply(seeded_engine, {**event, "resident": code, "effective": effective})
        return _current(seeded_engine, code, date.fromisoformat(effective))

    moved = step(
        "2026-12-01",
        {
            "kind": "move_within",
            "address": {"town": "仲町", "block": "7番地"},
            "whole_household": False,
        },
    )
    timeline.append((date(2026, 12, 1), moved))
    new_name = f"{person.family_name}　新名"
    kana = f"{person.kana.split('　')[0]}　シンメイ"
    renamed = step("2027-01-10", {"kind": "name_change", "name": new_name, "kana": kana})
    timeline.append((date(2027, 1, 10), renamed))
    alone = step("2027-02-01", {"kind": "household_change"})
    timeline.append((date(2027, 2, 1), alone))
    destination = {"prefecture": "東京都", "city": "練馬区", "town": "豊玉北"}
    gone = step(
        "2027-03-15", {"kind": "move_out", "notified": "2027-03-01", "destination": destination}
    )
    planned = alone.model_copy(
        update={
            "planned_move_out": PlannedMoveOut(
                planned_on=date(2027, 3, 15),
                notified_on=date(2027, 3, 1),
                destination=Address(**destination),
            )
        }
    )
    timeline += [(date(2027, 3, 1), planned), (date(2027, 3, 15), gone)]

    # Each state holds from its date to the day before the next state's date.
    ends = [start - timedelta(days=1) for start, _ in timeline[1:]] + [date(2030, 1, 1)]
    for (start, expected), end in zip(timeline, ends, strict=True):
        for day in {start, min(start + timedelta(days=1), end), end}:
            assert _record(seeded_engine, code, day) == expected, day.isoformat()

    assert moved.address.town == "仲町" and moved.prior_address == person.address
    assert (renamed.name, renamed.name_history) == (new_name, (person.name,))
    assert alone.household_id != person.household_id and alone.relationship == "世帯主"
    assert gone.status is ResidentStatus.MOVED_OUT and gone.removal_reason == "転出"
    assert _record(seeded_engine, code, None) == gone

    shown = _show(seeded_engine, code, date(2027, 1, 31))
    assert shown["as_of"] == "2027-01-31"
    assert [h["kind"] for h in shown["history"]][-2:] == ["move_within", "name_change"]
    assert all(h["effective"] <= "2027-01-31" for h in shown["history"])
    assert shown["history"][-1]["name"] == new_name
    full = _show(seeded_engine, code, None)
    assert [h["kind"] for h in full["history"]][-5:] == [
        "move_within",
        "name_change",
        "household_change",
        "move_out_planned",
        "move_out",
    ]
    assert [h["version"] for h in full["history"]] == list(range(1, len(full["history"]) + 1))
    assert full["history"][-1]["status"] == "moved_out"


def test_a_date_before_the_person_existed_is_not_found(seeded_engine: Engine) -> None:
    mother = next(
        p
        for p in _residents(seeded_engine)
        if p.sex.value == "female" and 20 <= p.age_on(TODAY) <= 45
    )
    child = _apply(
        seeded_engine,
        {
            "kind": "birth",
            "effective": "2026-12-24",
            "name": "聖",
            "kana": "ヒジリ",
            "sex": "female",
            "mother": mother.resident_code,
        },
    )
    assert _record(seeded_engine, child, date(2026, 12, 24)).birth_date == date(2026, 12, 24)
    with pytest.raises(NotFound, match=f"resident {child} was not on this city's register on"):
        _show(seeded_engine, child, date(2026, 12, 23))

    first = _show(seeded_engine, mother.resident_code, None)["history"][0]["effective"]
    arrived = date.fromisoformat(first)
    assert (
        _record(seeded_engine, mother.resident_code, arrived).resident_code == mother.resident_code
    )
    day_before = arrived - timedelta(days=1)
    with pytest.raises(NotFound, match=f"was not on this city's register on {day_before}"):
        _show(seeded_engine, mother.resident_code, day_before)


def test_seeded_moves_within_the_city_keep_the_earlier_address(
    shared_seeded_engine: Engine,
) -> None:
    seeded_engine = shared_seeded_engine
    moved = [
        p
        for p in _residents(seeded_engine)
        if p.prior_address is not None and p.address_set_on > p.became_resident_on
    ]
    assert len(moved) >= 5, "the seeded city should have people who moved within it"
    for person in moved[:20]:
        day_before = person.address_set_on - timedelta(days=1)
        earlier = _record(seeded_engine, person.resident_code, day_before)
        assert earlier.address == person.prior_address
        assert earlier.prior_address is None
        assert _record(seeded_engine, person.resident_code, person.address_set_on) == person


def test_unknown_and_malformed_codes(shared_seeded_engine: Engine) -> None:
    seeded_engine = shared_seeded_engine
    unknown = ResidentCode.from_base("9999999999")
    with pytest.raises(NotFound, match=f"no resident with code {unknown}"):
        _show(seeded_engine, unknown, None)
    mistyped = unknown[:-1] + str((int(unknown[-1]) + 1) % 10)
    with pytest.raises(InvalidInput, match=f"resident code {mistyped} has a wrong check digit"):
        _show(seeded_engine, mistyped, None)
