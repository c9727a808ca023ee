"""The store path's rules (コンビニ交付), each refusal with the reason a kiosk shows."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.certificates import CertificateType, IssueRequest
from kofu.city.domain.model import Address, PlannedMoveOut, Resident, Sex
from kofu.city.domain.store_rules import (
    MaintenanceWindow,
    StoreRules,
    check_card,
    check_hours,
    check_person,
    check_store_request,
)
from kofu.core.clock import JST
from kofu.core.errors import Refused

ADDRESS = Address(prefecture="岩手県", city="花巻市", town="東町", block="1番地")
RULES = StoreRules()
# 2026-11-24 is a Tuesday; 2026-11-23 (勤労感謝の日) a national holiday.
TUESDAY = date(2026, 11, 24)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), JST)


def person(**changes: object) -> Resident:
    base = Resident(
        resident_code="00019741800",
        individual_number="983205673214",
        name="花巻　太郎",
        kana="ハナマキ　タロウ",
        birth_date=date(1980, 4, 1),
        sex=Sex.MALE,
        address=ADDRESS,
        household_id="0000000001",
        relationship="世帯主",
        household_head_name="花巻　太郎",
        became_resident_on=date(2000, 4, 1),
        address_set_on=date(2010, 4, 1),
        notified_on=date(2010, 4, 1),
    )
    return base.model_copy(update=changes)


def refused(fn: object, *args: object) -> str:
    with pytest.raises(Refused) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.message and info.value.message_ja
    return info.value.reason


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (at(TUESDAY, 6, 29), "outside_hours"),
        (at(TUESDAY, 23, 0), "outside_hours"),
        (at(date(2026, 12, 29), 10), "closed_year_end"),
        (at(date(2027, 1, 3), 10), "closed_year_end"),
    ],
)
def test_hours_refused(when: datetime, reason: str) -> None:
    assert refused(check_hours, RULES, CertificateType.JUMINHYO, when) == reason


@pytest.mark.parametrize(
    "when",
    [at(TUESDAY, 6, 30), at(TUESDAY, 22, 59), at(date(2026, 12, 28), 12), at(date(2027, 1, 4), 7)],
)
def test_hours_open(when: datetime) -> None:
    check_hours(RULES, CertificateType.JUMINHYO, when)


def test_family_registers_only_in_the_weekday_window() -> None:
    kind = CertificateType.KOSEKI_ZENBU
    check_hours(RULES, kind, at(TUESDAY, 9, 0))
    check_hours(RULES, kind, at(TUESDAY, 17, 14))
    for when in (at(TUESDAY, 8, 59), at(TUESDAY, 17, 15), at(date(2026, 11, 28), 10)):
        assert refused(check_hours, RULES, kind, when) == "family_register_hours"
    # a national holiday on a Monday is not a weekday for the family-register window
    assert refused(check_hours, RULES, kind, at(date(2026, 11, 23), 10)) == "family_register_hours"
    check_hours(RULES, CertificateType.JUMINHYO, at(date(2026, 11, 23), 10))


def test_maintenance_stops_only_the_types_it_names() -> None:
    window = MaintenanceWindow(
        start=at(TUESDAY, 9), end=at(TUESDAY, 12), types=(CertificateType.KOSEKI_ZENBU,)
    )
    rules = StoreRules(maintenance=(window,))
    assert (
        refused(check_hours, rules, CertificateType.KOSEKI_ZENBU, at(TUESDAY, 10)) == "maintenance"
    )
    check_hours(rules, CertificateType.JUMINHYO, at(TUESDAY, 10))
    check_hours(rules, CertificateType.KOSEKI_ZENBU, at(TUESDAY, 12))
    everything = StoreRules(
        maintenance=(MaintenanceWindow(start=at(TUESDAY, 9), end=at(TUESDAY, 12)),)
    )
    assert (
        refused(check_hours, everything, CertificateType.INKAN, at(TUESDAY, 11, 59))
        == "maintenance"
    )


def test_person_rules() -> None:
    check_person(RULES, person(), [person()], TUESDAY)
    young = person(birth_date=TUESDAY.replace(year=TUESDAY.year - 15) + timedelta(days=1))
    assert refused(check_person, RULES, young, [young], TUESDAY) == "under_age"
    fifteen = person(birth_date=TUESDAY.replace(year=TUESDAY.year - 15))
    check_person(RULES, fifteen, [fifteen], TUESDAY)
    gone = person(status="moved_out")
    assert refused(check_person, RULES, gone, [], TUESDAY) == "moved_out"
    plan = PlannedMoveOut(
        planned_on=TUESDAY + timedelta(days=5), notified_on=TUESDAY, destination=ADDRESS
    )
    leaving = person(planned_move_out=plan)
    assert refused(check_person, RULES, leaving, [leaving], TUESDAY) == "move_out_pending"
    new = person(address_set_on=TUESDAY)
    assert refused(check_person, RULES, new, [new], TUESDAY) == "moved_in_today"
    long_name = person(name="寿限無寿限無　五劫の擦り切れ海砂利水魚の水行末")
    assert refused(check_person, RULES, long_name, [long_name], TUESDAY) == "name_too_long"


def test_household_with_a_planned_mover_is_refused_where_the_city_says_so() -> None:
    plan = PlannedMoveOut(
        planned_on=TUESDAY + timedelta(days=5), notified_on=TUESDAY, destination=ADDRESS
    )
    mover = person(resident_code="00045540747", relationship="子", planned_move_out=plan)
    check_person(RULES, person(), [person(), mover], TUESDAY)
    strict = StoreRules(refuse_household_with_planned_mover=True)
    assert refused(check_person, strict, person(), [person(), mover], TUESDAY) == (
        "household_move_out_pending"
    )


def request(**kwargs: object) -> IssueRequest:
    return IssueRequest.parse(resident_code="00019741800", **{"type": "juminhyo", **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "req", "reason"),
    [
        (RULES, {"items": ["resident_code"]}, "item_not_at_store"),
        (
            StoreRules(individual_number_allowed=False),
            {"items": ["individual_number"]},
            "item_not_at_store",
        ),
        (RULES, {"history": True}, "item_not_at_store"),
        (StoreRules(types=(CertificateType.JUMINHYO,)), {"type": "inkan"}, "type_not_offered"),
    ],
)
def test_items_a_store_never_prints(rules: StoreRules, req: dict[str, object], reason: str) -> None:
    assert (
        refused(check_store_request, rules, request(**req), person(), [person()], at(TUESDAY, 10))
        == reason
    )


def test_individual_number_where_the_city_allows_it() -> None:
    check_store_request(
        RULES, request(items=["individual_number"]), person(), [person()], at(TUESDAY, 10)
    )


def card(**changes: object) -> CardRecord:
    base = CardRecord(
        card_id="032051-20260101-aa",
        resident_code="00019741800",
        application_id="A1",
        issued_on=date(2026, 1, 1),
        expires_on=date(2036, 4, 1),
        auth_serial="ab12",
        certificates_expire_on=date(2031, 4, 1),
        issuer_secret="00" * 32,
    )
    return base.model_copy(update=changes)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (None, "card_unknown"),
        (card(state=CardState.SUSPENDED), "card_suspended"),
        (card(state=CardState.RETURNED), "card_returned"),
        (card(expires_on=date(2026, 11, 1)), "card_expired"),
        (card(certificates_expire_on=date(2026, 11, 23)), "card_expired"),
    ],
)
def test_card_must_be_active(record: CardRecord | None, reason: str) -> None:
    assert refused(check_card, record, TUESDAY) == reason
    check_card(card(), TUESDAY)
