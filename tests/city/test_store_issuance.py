"""The city's certificate server on the store path, against the seeded city."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.model import Resident
from kofu.city.domain.store_requests import RequestIdReused
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.events import apply_events
from kofu.city.services.store import (
    abandon_store_request,
    answer_store_request,
    issue_for_store,
    store_request_outcome,
)
from kofu.contracts.store import IssueOptions, StoreAnswer, StoreOutcome, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Refused
from kofu.core.holder import holder_digest

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))  # a Tuesday


def _holder(engine: Engine) -> Resident:
    with CityUnitOfWork(engine, today=NOON.today()) as uow:
        holder = uow.registers.sample_holder()
    assert holder is not None
    return holder


def _give_card(engine: Engine, resident: Resident, **changes: Any) -> CardRecord:
    record = CardRecord(
        card_id="112186-20260101-0001",
        resident_code=resident.resident_code,
        application_id="A1",
        issued_on=date(2026, 1, 1),
        expires_on=date(2036, 1, 1),
        auth_serial="5eed",
        certificates_expire_on=date(2031, 1, 1),
        issuer_secret="00" * 32,
    ).model_copy(update=changes)
    with CityUnitOfWork(engine) as uow:
        uow.cards.save_card(record)
        uow.commit()
    return record


def test_store_issues_for_the_card_holder_only(seeded_engine: Engine, tmp_path: Path) -> None:
    holder = _holder(seeded_engine)
    _give_card(seeded_engine, holder)
    issued = issue_for_store(
        uow=CityUnitOfWork(seeded_engine),
        auth_serial="5EED",
        type="juminhyo",
        household="all",
        rules=StoreRules(),
        clock=NOON,
    )
    assert issued.resident_code == holder.resident_code
    assert holder.resident_code in issued.subjects
    pdf = tmp_path / "store.pdf"
    pdf.write_bytes(issued.pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert holder.name.split("　")[0] in text.stdout.replace(" ", "")
    assert holder_digest("112186", holder.resident_code) != holder_digest("112186", "00000000000")


@pytest.mark.parametrize(
    ("card_changes", "request_", "reason"),
    [
        ({"state": CardState.SUSPENDED}, {"type": "juminhyo"}, "card_suspended"),
        ({}, {"type": "juminhyo", "items": ["resident_code"]}, "item_not_at_store"),
        ({"auth_serial": "beef"}, {"type": "juminhyo"}, "card_unknown"),
    ],
)
def test_store_refusals_change_nothing(
    seeded_engine: Engine,
    db_rows: Callable[[], dict[str, list[dict[str, Any]]]],
    card_changes: dict[str, Any],
    request_: dict[str, Any],
    reason: str,
) -> None:
    _give_card(seeded_engine, _holder(seeded_engine), **card_changes)
    before = db_rows()
    with pytest.raises(Refused) as info:
        issue_for_store(
            uow=CityUnitOfWork(seeded_engine),
            auth_serial="5eed",
            rules=StoreRules(),
            clock=NOON,
            **request_,
        )
    assert info.value.reason == reason
    assert db_rows() == before


def test_a_temporary_release_never_reaches_the_store(seeded_engine: Engine) -> None:
    holder = _holder(seeded_engine)
    _give_card(seeded_engine, holder)
    events = [
        {
            "kind": "issuance_block",
            "resident": holder.resident_code,
            "effective": "2026-11-24",
            "reason": "調査中",
        },
        {
            "kind": "issuance_block_temporary_release",
            "resident": holder.resident_code,
            "effective": "2026-11-24",
            "until": "2026-11-24T18:00:00+09:00",
        },
    ]
    apply_events(uow=CityUnitOfWork(seeded_engine), events=events, clock=NOON)
    with pytest.raises(Refused) as info:
        issue_for_store(
            uow=CityUnitOfWork(seeded_engine),
            auth_serial="5eed",
            type="juminhyo",
            rules=StoreRules(),
            clock=NOON,
        )
    assert info.value.reason == "issuance_blocked"


def _ask(engine: Engine, request_id: str, **options: Any) -> StoreAnswer:
    request = StoreRequest(
        request_id=request_id,
        auth_serial="5eed",
        certificate="juminhyo",
        options=IssueOptions.model_validate(options),
    )
    return answer_store_request(
        uow=CityUnitOfWork(engine), code="112186", rules=StoreRules(), clock=NOON, request=request
    )


def _log_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.issuance_log)).scalar_one())


def test_a_retried_request_id_gets_the_same_document_once(seeded_engine: Engine) -> None:
    _give_card(seeded_engine, _holder(seeded_engine))
    first = _ask(seeded_engine, "req-again-0001")
    again = _ask(seeded_engine, "req-again-0001")
    assert again == first  # the same bytes, the same issue number: nothing issued twice
    assert _log_rows(seeded_engine) == 1
    other = _ask(seeded_engine, "req-again-0002")
    assert other.issue_number == first.issue_number + 1
    told = store_request_outcome(uow=CityUnitOfWork(seeded_engine), request_id="req-again-0001")
    assert told == StoreOutcome(request_id="req-again-0001", state="issued", answer=first)


def test_a_request_id_reused_for_another_request_is_refused(seeded_engine: Engine) -> None:
    _give_card(seeded_engine, _holder(seeded_engine))
    _ask(seeded_engine, "req-reuse-0001")
    with pytest.raises(RequestIdReused) as info:
        _ask(seeded_engine, "req-reuse-0001", household="all")
    assert info.value.status == 409 and info.value.to_dict()["reason"] == "request_id_reused"
    assert _log_rows(seeded_engine) == 1


def test_a_refusal_is_kept_and_answered_again(seeded_engine: Engine) -> None:
    _give_card(seeded_engine, _holder(seeded_engine))
    with pytest.raises(Refused) as first:
        _ask(seeded_engine, "req-refused-01", items=["resident_code"])
    with pytest.raises(Refused) as again:
        _ask(seeded_engine, "req-refused-01", items=["resident_code"])
    assert first.value.reason == again.value.reason == "item_not_at_store"
    told = store_request_outcome(uow=CityUnitOfWork(seeded_engine), request_id="req-refused-01")
    assert told.state == "refused" and told.reason == "item_not_at_store"
    assert _log_rows(seeded_engine) == 0


def test_an_abandoned_request_id_never_issues(seeded_engine: Engine) -> None:
    _give_card(seeded_engine, _holder(seeded_engine))
    unknown = store_request_outcome(uow=CityUnitOfWork(seeded_engine), request_id="req-gone-0001")
    assert unknown == StoreOutcome(request_id="req-gone-0001", state="unknown")
    closed = abandon_store_request(
        uow=CityUnitOfWork(seeded_engine), request_id="req-gone-0001", clock=NOON
    )
    assert closed.state == "abandoned"
    with pytest.raises(Refused) as info:
        _ask(seeded_engine, "req-gone-0001")
    assert info.value.reason == "request_abandoned"
    assert _log_rows(seeded_engine) == 0
    issued = _ask(seeded_engine, "req-kept-0001")
    kept = abandon_store_request(
        uow=CityUnitOfWork(seeded_engine), request_id="req-kept-0001", clock=NOON
    )
    assert kept == StoreOutcome(request_id="req-kept-0001", state="issued", answer=issued)


class _AbandonedMidway(CityUnitOfWork):
    """Fault injection: the center gives the request up while the city is still issuing it."""

    entered = 0  # transactions opened by this unit of work (the same one serves the request)

    def __enter__(self) -> _AbandonedMidway:
        self.entered += 1
        if self.entered == 3:  # after the composition, before the number and the log
            abandon_store_request(
                uow=CityUnitOfWork(self._engine), request_id="req-midway-01", clock=NOON
            )
        return super().__enter__()


def test_an_issuance_under_way_when_abandoned_leaves_nothing(seeded_engine: Engine) -> None:
    _give_card(seeded_engine, _holder(seeded_engine))
    request = StoreRequest(request_id="req-midway-01", auth_serial="5eed", certificate="juminhyo")
    with pytest.raises(Refused) as info:
        answer_store_request(
            uow=_AbandonedMidway(seeded_engine),
            code="112186",
            rules=StoreRules(),
            clock=NOON,
            request=request,
        )
    assert info.value.reason == "request_abandoned"
    assert _log_rows(seeded_engine) == 0  # the log and the kept answer go together or not at all
