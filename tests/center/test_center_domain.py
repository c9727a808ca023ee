"""The center's rules alone: no store, no link, no clock but the one given."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest

from kofu.center.domain.issuance import (
    Asked,
    Issuance,
    answer_mismatch,
    check_copies,
    check_retry,
    content_mismatch,
    job_of,
    recovered_state,
)
from kofu.center.domain.settlement import month_span
from kofu.contracts.store import StoreAnswer
from kofu.core.clock import JST
from kofu.core.errors import Conflict, InvalidInput, Refused

AT = datetime(2026, 11, 24, 12, 0, tzinfo=JST)


def _issuance(**changes: object) -> Issuance:
    base = Issuance(
        request_id="req-00001",
        state="rendered",
        auth_serial="abc",
        city="032051",
        certificate="juminhyo",
        copies=1,
        fee=200,
        store="s",
        chain="c",
        created_at=AT,
        updated_at=AT,
        holder_digest="d" * 64,
        print_job=b"%PDF",
        kiosk="kiosk-1",
    )
    return Issuance(**(base.__dict__ | changes))


def _answer(**changes: object) -> StoreAnswer:
    values = {
        "request_id": "req-00001",
        "city": "032051",
        "certificate": "juminhyo",
        "issue_number": 1,
        "content_digest": hashlib.sha256(b"pdf").hexdigest(),
        "holder_digest": "d" * 64,
        "fee": 200,
        "pdf_base64": "",
    }
    return StoreAnswer.model_validate(values | changes)


@pytest.mark.parametrize("copies", [0, 11, -1])
def test_copies_are_one_to_ten(copies: int) -> None:
    with pytest.raises(InvalidInput):
        check_copies(copies)


def test_a_retry_must_be_the_same_card_kiosk_and_request() -> None:
    kept = _issuance()
    check_retry(kept, "abc", "kiosk-1", "juminhyo", 1, None)  # the same: no complaint
    with pytest.raises(Conflict, match="another card"):
        check_retry(kept, "other", "kiosk-1", "juminhyo", 1, None)
    with pytest.raises(Refused) as other:
        check_retry(kept, "abc", "kiosk-2", "juminhyo", 1, None)
    assert other.value.reason == "session_other_kiosk"
    for certificate, copies, domicile in [("koseki", 1, None), ("juminhyo", 2, None)]:
        with pytest.raises(Conflict, match="new request id"):
            check_retry(kept, "abc", "kiosk-1", certificate, copies, domicile)
    with pytest.raises(Conflict):
        check_retry(kept, "abc", "kiosk-1", "juminhyo", 1, "112186")


def test_only_a_rendered_issuance_gives_its_print_job() -> None:
    assert job_of(_issuance()).pdf == b"%PDF"
    with pytest.raises(Conflict, match="in progress"):
        job_of(_issuance(state="requested"))
    with pytest.raises(Conflict, match="already printed"):
        job_of(_issuance(state="printed"))


def test_another_request_or_person_and_other_bytes_are_mismatches() -> None:
    asked = Asked("req-00001", "032051", "juminhyo", 1, "d" * 64, AT)
    assert answer_mismatch(asked, _answer()) is None
    assert answer_mismatch(asked, _answer(holder_digest="e" * 64))[0] == "holder_mismatch"  # type: ignore[index]
    assert answer_mismatch(asked, _answer(request_id="req-00002")) is not None
    assert answer_mismatch(Asked.of(_issuance(holder_digest=None)), _answer()) is not None
    assert content_mismatch(asked, b"pdf", hashlib.sha256(b"pdf").hexdigest()) is None
    assert content_mismatch(asked, b"pdf!", hashlib.sha256(b"pdf").hexdigest()) is not None


@pytest.mark.parametrize(
    ("told", "reason", "known", "stopped", "becomes"),
    [
        ("issued", None, True, False, ("complete", None)),
        ("issued", None, False, False, ("voided", "holder_unverifiable")),
        ("issued", None, True, True, ("voided", "service_stopped")),
        ("refused", "record_unknown", True, False, ("voided", "record_unknown")),
        ("abandoned", None, True, False, ("voided", "city_never_issued")),
        ("unknown", None, True, False, ("requested", None)),
    ],
)
def test_a_stuck_issuance_becomes_what_its_city_did(
    told: str, reason: str | None, known: bool, stopped: bool, becomes: tuple[str, str | None]
) -> None:
    assert recovered_state(told, reason, known, stopped) == becomes


def test_a_month_runs_in_japans_time() -> None:
    start, end = month_span("2026-12")
    assert (start, end - start) == (datetime(2026, 12, 1, tzinfo=JST), timedelta(days=31))
    for bad in ("2026-13", "9999-12", "26-1", ""):
        with pytest.raises(InvalidInput):
            month_span(bad)
