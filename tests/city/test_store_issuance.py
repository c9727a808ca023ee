"""The city's certificate server on the store path, against the seeded city."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.model import Resident
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.events import apply_events
from kofu.city.services.store import issue_for_store
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
