"""Messages of prints from a faulty or hostile sender: each counted once, bad ones refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.store import answer_store_request, record_store_prints
from kofu.contracts.store import StorePrinted, StorePrints, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import InvalidInput

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))


def _daily(engine: Engine) -> list[tuple[object, ...]]:
    d = t.activity_daily
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.day, d.c.channel, d.c.doc_type, d.c.n, d.c.copies, d.c.fee_yen).where(
                d.c.kind == "certificate.issued"
            )
        )
        return [tuple(r) for r in rows]


def _answered(engine: Engine, request_id: str) -> None:
    with CityUnitOfWork(engine, today=NOON.today()) as uow:
        holder = uow.registers.sample_holder()
        assert holder is not None
        uow.cards.save_card(
            CardRecord(
                card_id="112186-20260101-0001",
                resident_code=holder.resident_code,
                application_id="A1",
                issued_on=date(2026, 1, 1),
                expires_on=date(2036, 1, 1),
                auth_serial="5eed",
                certificates_expire_on=date(2031, 1, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()
    request = StoreRequest(request_id=request_id, auth_serial="5eed", certificate="juminhyo")
    answer_store_request(
        uow=CityUnitOfWork(engine), code="112186", rules=StoreRules(), clock=NOON, request=request
    )


def test_a_message_naming_one_print_twice_counts_it_once(seeded_engine: Engine) -> None:
    """The same request id twice in one message: one log row, so the daily sums must say one."""
    _answered(seeded_engine, "R" * 20)
    notice = StorePrinted(
        request_id="R" * 20, city="112186", copies=2, fee=400, printed_at=NOON.now()
    )
    told = record_store_prints(
        uow=CityUnitOfWork(seeded_engine),
        code="112186",
        notices=StorePrints(prints=[notice, notice]),
        clock=NOON,
    )
    with seeded_engine.connect() as conn:
        logged = conn.execute(
            select(func.sum(t.activity_log.c.count)).where(
                t.activity_log.c.ref == "store:" + "R" * 20
            )
        ).scalar_one()
    assert logged == 1  # the log itself holds the print once
    assert _daily(seeded_engine) == [(date(2026, 11, 24), "store", "juminhyo", 1, 2, 400)]
    assert [r.state for r in told.recorded] == ["recorded", "already"]


def test_a_print_time_without_a_zone_is_refused_as_input(seeded_engine: Engine) -> None:
    """``printed_at`` as sent over HTTP with no offset: a 422 naming it, not a TypeError (500)."""
    _answered(seeded_engine, "R" * 20)
    body = {
        "prints": [
            {
                "request_id": "R" * 20,
                "city": "112186",
                "copies": 1,
                "fee": 200,
                "printed_at": "2026-11-24T03:00:00",
            }
        ]
    }
    with pytest.raises(InvalidInput) as refused:
        StorePrints.checked(body)
    assert "printed_at" in refused.value.message
