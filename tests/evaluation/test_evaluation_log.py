"""The activity log: written by the city's own operations, append-only, corrected by reversals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.api.dashboard import dashboard_page
from kofu.city.domain.activity import Activity, ActivityKind, fiscal_year_of, jst_day
from kofu.city.domain.card_desk import CardRecord
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.dashboard import dashboard
from kofu.city.services.issuance import issue_certificate
from kofu.city.services.store import answer_store_request, record_store_print, record_store_prints
from kofu.contracts.store import StorePrinted, StorePrints, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))


def _daily(engine: Engine, kind: str) -> list[tuple[object, ...]]:
    d = t.activity_daily
    with engine.connect() as conn:
        rows = conn.execute(
            select(d.c.day, d.c.channel, d.c.doc_type, d.c.n, d.c.copies, d.c.fee_yen).where(
                d.c.kind == kind
            )
        )
        return [tuple(r) for r in rows]


def test_fiscal_year_is_taken_in_japan_time() -> None:
    late = datetime(2023, 3, 31, 15, 30, tzinfo=UTC)  # 2023-04-01 00:30 in Japan
    assert jst_day(late) == date(2023, 4, 1)
    assert fiscal_year_of(jst_day(late)) == 2023
    assert fiscal_year_of(date(2024, 3, 31)) == 2023


def test_a_reference_is_logged_once_and_a_reversal_cancels_on_the_original_day(
    city_engine: Engine,
) -> None:
    at = datetime(2024, 3, 31, 23, 0, tzinfo=JST)
    made = Activity(ActivityKind.CARD_ISSUED, at, role="new", ref="card:X1")
    with CityUnitOfWork(city_engine) as uow:
        first = uow.activity.append(made)
        again = uow.activity.append(made)
        uow.commit()
    assert first is not None and again is None
    assert _daily(city_engine, "card.issued") == [(date(2024, 3, 31), "", "", 1, 0, 0)]
    with CityUnitOfWork(city_engine) as uow:
        uow.activity.reverse(first, "entered twice")
        uow.commit()
    assert _daily(city_engine, "card.issued") == [(date(2024, 3, 31), "", "", 0, 0, 0)]
    with CityUnitOfWork(city_engine) as uow, pytest.raises(Conflict):
        uow.activity.reverse(first, "again")
    with CityUnitOfWork(city_engine) as uow, pytest.raises(NotFound):
        uow.activity.reverse(999_999, "none")
    with city_engine.connect() as conn:  # the original is never changed or removed
        rows = conn.execute(select(t.activity_log.c.count, t.activity_log.c.voids)).all()
    assert sorted(tuple(r) for r in rows) == [(-1, first), (1, None)]


def test_a_record_refuses_what_could_hide_or_forge_a_count() -> None:
    at = datetime(2024, 1, 1, tzinfo=JST)
    with pytest.raises(InvalidInput):
        Activity(ActivityKind.CERTIFICATE_ISSUED, at, count=-5)
    with pytest.raises(InvalidInput):
        Activity(ActivityKind.CERTIFICATE_ISSUED, datetime(2024, 1, 1))  # no time zone
    with pytest.raises(InvalidInput):
        Activity(ActivityKind.COMPLAINT, at, cause="x\nforged")


def test_counter_issuance_is_logged_with_the_work(seeded_engine: Engine) -> None:
    with CityUnitOfWork(seeded_engine, today=NOON.today()) as uow:
        holder = uow.registers.sample_holder()
    assert holder is not None
    request = IssueRequest.parse(type="juminhyo", resident_code=holder.resident_code)
    issue_certificate(uow=CityUnitOfWork(seeded_engine), request=request, clock=NOON, fee_yen=300)
    assert _daily(seeded_engine, "certificate.issued") == [
        (date(2026, 11, 24), "counter", "juminhyo", 1, 1, 300)
    ]


def test_a_store_issuance_counts_only_when_its_print_is_confirmed(seeded_engine: Engine) -> None:
    with CityUnitOfWork(seeded_engine, today=NOON.today()) as uow:
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
    request = StoreRequest(request_id="R" * 20, auth_serial="5eed", certificate="juminhyo")
    uow = CityUnitOfWork(seeded_engine)
    answer_store_request(uow=uow, code="112186", rules=StoreRules(), clock=NOON, request=request)
    assert _daily(seeded_engine, "certificate.issued") == []  # answered, not yet printed
    notice = StorePrinted(
        request_id="R" * 20, city="112186", copies=2, fee=400, printed_at=NOON.now()
    )
    first = record_store_print(uow=uow, code="112186", notice=notice, clock=NOON)
    again = record_store_print(uow=uow, code="112186", notice=notice, clock=NOON)
    assert (first.state, again.state) == ("recorded", "already")
    assert _daily(seeded_engine, "certificate.issued") == [
        (date(2026, 11, 24), "store", "juminhyo", 1, 2, 400)
    ]
    forged = notice.model_copy(update={"request_id": "S" * 20})  # never issued here
    with pytest.raises(NotFound):
        record_store_print(uow=uow, code="112186", notice=forged, clock=NOON)
    other_city = notice.model_copy(update={"city": "032051"})
    with pytest.raises(InvalidInput):
        record_store_print(uow=uow, code="112186", notice=other_city, clock=NOON)
    # many at once (what the center sends): each counted once, the unknown one refused alone
    batch = StorePrints(prints=[notice, forged])
    told = record_store_prints(uow=uow, code="112186", notices=batch, clock=NOON)
    assert [(r.request_id, r.state) for r in told.recorded] == [("R" * 20, "already")]
    assert [(r.request_id, r.reason) for r in told.refused] == [("S" * 20, "unknown_request")]
    with pytest.raises(InvalidInput):  # a message for another city is refused whole
        record_store_prints(
            uow=uow, code="112186", notices=StorePrints(prints=[notice, other_city]), clock=NOON
        )
    assert _daily(seeded_engine, "certificate.issued") == [
        (date(2026, 11, 24), "store", "juminhyo", 1, 2, 400)
    ]
    counter = IssueRequest.parse(type="juminhyo", resident_code=holder.resident_code)
    issue_certificate(uow=CityUnitOfWork(seeded_engine), request=counter, clock=NOON)
    refused = StoreRequest(request_id="T" * 20, auth_serial="dead", certificate="juminhyo")
    with pytest.raises(Refused):  # no such card: refused, and the refusal is counted by reason
        answer_store_request(
            uow=uow, code="112186", rules=StoreRules(), clock=NOON, request=refused
        )
    view = dashboard(uow=CityUnitOfWork(seeded_engine), clock=NOON)
    november = next(m for m in view["months"] if m["month"] == "2026-11")
    assert (november["store"], november["all"], november["store_share"]) == (2, 3, "66.7")
    assert view["fiscal_year"] == 2026 and november["mis_issuances"] == 0
    assert view["refusals"] == {"card_unknown": {"2026-11": 1}}
    page = dashboard_page(view)
    assert "66.7" in page and "card_unknown" in page and "2026-11" in page


def test_a_counter_refusal_is_counted_by_reason_apart_from_the_stores(
    seeded_engine: Engine, db_rows: Callable[[], dict[str, list[dict[str, Any]]]]
) -> None:
    with CityUnitOfWork(seeded_engine, today=NOON.today()) as uow:
        holder = uow.registers.sample_holder()
    assert holder is not None
    before = db_rows()
    johyo = IssueRequest.parse(type="johyo", resident_code=holder.resident_code)
    for _ in range(2):
        with pytest.raises(Refused) as refused:  # a 除票 of a current resident
            issue_certificate(uow=CityUnitOfWork(seeded_engine), request=johyo, clock=NOON)
        assert refused.value.reason == "not_removed"
    after = db_rows()
    logged = {"activity_log", "activity_daily"}
    assert {k: v for k, v in after.items() if k not in logged} == {
        k: v for k, v in before.items() if k not in logged
    }  # the refusal is the only thing written
    assert [(r["kind"], r["channel"], r["cause"]) for r in after["activity_log"]] == [
        ("certificate.refused", "counter", "not_removed")
    ] * 2

    view = dashboard(uow=CityUnitOfWork(seeded_engine), clock=NOON)
    assert view["counter_refusals"] == {"not_removed": {"2026-11": 2}}
    assert view["refusals"] == {}  # the store's own stay apart
    page = dashboard_page(view)
    assert "交付できなかった理由（窓口）" in page and "not_removed" in page
