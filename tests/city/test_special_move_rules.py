"""The special move's limits and 継続利用 as rules, without storage (fast)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.special_move import (
    check_card_for_move,
    check_continuation,
    check_move_in_dates,
)
from kofu.city.domain.store_rules import check_card
from kofu.core.errors import InvalidInput, Refused

TODAY = date(2026, 11, 24)


def _card(**changes: object) -> CardRecord:
    base = CardRecord(
        card_id="112186-20260101-0001",
        resident_code="00111824736",
        application_id="A1",
        issued_on=date(2026, 1, 1),
        expires_on=date(2036, 1, 1),
        auth_serial="c0ffee",
        certificates_expire_on=date(2031, 1, 1),
        issuer_secret="00" * 32,
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("moved", "planned", "reason"),
    [
        (TODAY - timedelta(days=15), TODAY - timedelta(days=15), "move_in_too_late"),
        (TODAY - timedelta(days=3), TODAY - timedelta(days=31), "move_out_expired"),
    ],
)
def test_a_move_in_past_either_limit_is_refused(moved: date, planned: date, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        check_move_in_dates(moved=moved, planned=planned, today=TODAY)
    assert refused.value.reason == reason and refused.value.message_ja


def test_the_last_day_of_both_limits_is_still_in_time() -> None:
    check_move_in_dates(
        moved=TODAY - timedelta(days=14), planned=TODAY - timedelta(days=30), today=TODAY
    )
    with pytest.raises(InvalidInput):
        check_move_in_dates(moved=TODAY + timedelta(days=1), planned=TODAY, today=TODAY)


@pytest.mark.parametrize(
    ("state", "expires", "moved_in", "reason"),
    [
        ("suspended", date(2036, 1, 1), None, "card_suspended"),
        ("abolished", date(2036, 1, 1), None, "card_abolished"),
        ("active", TODAY - timedelta(days=1), None, "card_expired"),
        ("active", date(2036, 1, 1), TODAY - timedelta(days=10), "card_not_continued"),
    ],
)
def test_a_card_that_cannot_carry_a_special_move(
    state: str, expires: date, moved_in: date | None, reason: str
) -> None:
    with pytest.raises(Refused) as refused:
        check_card_for_move(
            state=state,
            expires_on=expires,
            certificates_expire_on=date(2031, 1, 1),
            moved_in_on=moved_in,
            continued_on=None,
            today=TODAY,
        )
    assert refused.value.reason == reason


def test_continuation_within_90_days_and_the_store_path_until_then() -> None:
    fresh = _card(moved_in_on=TODAY - timedelta(days=90))
    check_continuation(fresh, TODAY)  # the 90th day is still in time
    with pytest.raises(Refused) as late:
        check_continuation(_card(moved_in_on=TODAY - timedelta(days=91)), TODAY)
    assert late.value.reason == "continuation_expired"
    with pytest.raises(Refused) as nothing:
        check_continuation(_card(), TODAY)
    assert nothing.value.reason == "nothing_to_continue"
    with pytest.raises(Refused) as store:
        check_card(fresh, TODAY)
    assert store.value.reason == "card_not_continued" and "継続利用" in (
        store.value.message_ja or ""
    )
    with pytest.raises(Refused) as gone:
        check_card(_card(moved_in_on=TODAY - timedelta(days=91)), TODAY)
    assert gone.value.reason == "card_not_continued_expired"
    assert check_card(fresh.model_copy(update={"continued_on": TODAY}), TODAY).card_id
    assert _card(state=CardState.ACTIVE).state is CardState.ACTIVE
