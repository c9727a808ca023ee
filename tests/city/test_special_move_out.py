"""The special move-out at the old city, on its store (SQLite and PostgreSQL): what it keeps,
and the refusals that change nothing.  The network side is tests/e2e/test_juki_services.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.model import Resident
from kofu.city.services.special_move import close_move_out, move_out_data, special_move_out
from kofu.contracts.citylink import MoveInNotice
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import InvalidInput, NotFound, Refused

Rows = dict[str, list[dict[str, object]]]
AT = datetime(2026, 12, 1, 11, 0, tzinfo=JST)
CLOCK = FixedClock(AT)
HANAMAKI = "032051"


def _household(engine: Engine) -> list[Resident]:
    with CityUnitOfWork(engine, today=AT.date()) as uow:
        houses: dict[str, list[Resident]] = {}
        for p in uow.registers.residents():
            if p.is_resident and p.foreign is None:
                houses.setdefault(p.household_id, []).append(p)
    return next(
        sorted(h, key=lambda m: m.relationship != "世帯主")
        for h in houses.values()
        if len(h) >= 2 and all(m.foreign is None for m in h)
    )


def _card(engine: Engine, person: Resident, state: CardState = CardState.ACTIVE) -> None:
    with CityUnitOfWork(engine, today=AT.date()) as uow:
        uow.cards.save_card(
            CardRecord(
                card_id=f"112186-20260101-{person.resident_code[-4:]}",
                resident_code=person.resident_code,
                application_id="A1",
                issued_on=date(2026, 1, 1),
                expires_on=date(2036, 1, 1),
                state=state,
                auth_serial=f"c0ffee{person.resident_code}",
                certificates_expire_on=date(2031, 1, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()


def _move(engine: Engine, person: Resident, **kw: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {"to_city": HANAMAKI, "planned": date(2026, 12, 5)} | kw
    return special_move_out(
        uow=CityUnitOfWork(engine, today=AT.date()),
        code="112186",
        clock=CLOCK,
        resident=person.resident_code,
        town="東和町北成島",
        **options,  # type: ignore[arg-type]
    )


def test_the_refusals_change_nothing(
    seeded_engine: Engine, rows_of: Callable[[Engine], Rows]
) -> None:
    house = _household(seeded_engine)
    before = rows_of(seeded_engine)
    with pytest.raises(Refused) as no_card:
        _move(seeded_engine, house[0])
    assert no_card.value.reason == "no_card"
    _card(seeded_engine, house[0], CardState.SUSPENDED)
    with_card = rows_of(seeded_engine)
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({}, Refused, "card_suspended"),
        ({"to_city": "abroad"}, Refused, "move_abroad"),
        ({"to_city": "112186"}, InvalidInput, "to"),
        ({"to_city": "112187"}, InvalidInput, "city"),
        ({"by": "fax"}, InvalidInput, "by"),
        ({"channel": "online"}, InvalidInput, "card"),
        ({"planned": date(2026, 11, 1)}, InvalidInput, "planned"),
        ({"household": ["00000000018"]}, InvalidInput, "household"),
    ]
    for options, kind, what in cases:
        options = {"channel": options.pop("by")} if "by" in options else options
        with pytest.raises(kind) as refused:
            _move(seeded_engine, house[0], **options)
        said = getattr(refused.value, "reason", None) or getattr(refused.value, "field", "")
        assert what in str(said) or what in str(refused.value), (options, refused.value)
    assert rows_of(seeded_engine) == with_card
    assert with_card != before  # only the card written by the test itself


def test_the_data_goes_to_its_destination_once(seeded_engine: Engine) -> None:
    house = _household(seeded_engine)
    _card(seeded_engine, house[1])  # one member's card is enough for the household
    data = _move(seeded_engine, house[0], household=[m.resident_code for m in house])
    assert [m.resident_code for m in data.members] == [m.resident_code for m in house]
    assert data.members[1].card is not None and data.members[1].card.issued_on
    with pytest.raises(Refused, match="move-out has already been notified"):
        _move(seeded_engine, house[0])
    asked: list[str] = []
    got = move_out_data(
        uow=CityUnitOfWork(seeded_engine), resident_code=house[1].resident_code, ask=asked.append
    )
    assert asked == [HANAMAKI] and got.move_out_id == data.move_out_id
    notice = MoveInNotice(
        move_out_id=data.move_out_id,
        to_city=HANAMAKI,
        moved_on=date(2026, 12, 5),
        notified_on=date(2026, 12, 6),
        residents=tuple(m.resident_code for m in house),
    )
    first = close_move_out(uow=CityUnitOfWork(seeded_engine), notice=notice, clock=CLOCK)
    again = close_move_out(uow=CityUnitOfWork(seeded_engine), notice=notice, clock=CLOCK)
    assert first.first and not again.first and again.closed_at == first.closed_at
    elsewhere = notice.model_copy(update={"to_city": "011002"})
    with pytest.raises(Refused) as other:
        close_move_out(uow=CityUnitOfWork(seeded_engine), notice=elsewhere, clock=CLOCK)
    assert other.value.reason == "caller_not_allowed"
    with pytest.raises(NotFound):
        move_out_data(
            uow=CityUnitOfWork(seeded_engine), resident_code="00000000018", ask=asked.append
        )
