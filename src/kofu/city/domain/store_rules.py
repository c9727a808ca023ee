"""The rules a city applies before a certificate may come out of a store's machine (コンビニ交付).

They are stricter than the counter's: the service runs 06:30–23:00 except
29 Dec–3 Jan and maintenance windows; family-register documents only in the
city's weekday window; nobody under 15; no support-measure subject; nobody
moved out, about to move out (and, where the city says so, nobody in a
household with a planned mover); not on the day of moving in; only with an
active card; names within the system's character limit; and never the items
a store may not print (the resident code always, the individual number where
the city forbids it).  Every refusal carries a reason a kiosk can show.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

import jpholiday
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.city.domain.certificates import CertificateType, IssueRequest, Item
from kofu.city.domain.model import Resident
from kofu.city.domain.special_move import CONTINUE_WITHIN
from kofu.core.errors import Refused

__all__ = [
    "MaintenanceWindow",
    "StoreRules",
    "check_card",
    "check_hours",
    "check_person",
    "check_store_request",
]

_FAMILY_TYPES = {CertificateType.KOSEKI_ZENBU, CertificateType.KOSEKI_KOJIN, CertificateType.FUHYO}


class MaintenanceWindow(BaseModel):
    """A stop announced by the city: all types, or only some (e.g. family registers)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: datetime
    end: datetime
    types: tuple[CertificateType, ...] = ()  # empty: every type
    note: str = ""

    def covers(self, now: datetime, kind: CertificateType) -> bool:
        return self.start <= now < self.end and (not self.types or kind in self.types)


class StoreRules(BaseModel):
    """One city's store rules and fees, as a clerk reads them in the city's config file."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    opens: time = time(6, 30)
    closes: time = time(23, 0)
    family_register_opens: time = time(9, 0)
    family_register_closes: time = time(17, 15)
    types: tuple[CertificateType, ...] = (
        CertificateType.JUMINHYO,
        CertificateType.INKAN,
        CertificateType.KAZEI,
        CertificateType.SHOTOKU,
        CertificateType.KOSEKI_ZENBU,
        CertificateType.KOSEKI_KOJIN,
        CertificateType.FUHYO,
    )
    individual_number_allowed: bool = True
    refuse_household_with_planned_mover: bool = False
    name_limit: int = Field(20, ge=4, le=100)  # characters the store form can print
    minimum_age: int = 15
    fees: dict[CertificateType, int] = Field(
        default_factory=lambda: {
            CertificateType.JUMINHYO: 200,
            CertificateType.INKAN: 200,
            CertificateType.KAZEI: 200,
            CertificateType.SHOTOKU: 200,
            CertificateType.KOSEKI_ZENBU: 350,
            CertificateType.KOSEKI_KOJIN: 350,
            CertificateType.FUHYO: 200,
        }
    )
    maintenance: tuple[MaintenanceWindow, ...] = ()

    @model_validator(mode="after")
    def _every_offered_type_has_a_fee(self) -> StoreRules:
        missing = [t.value for t in self.types if t not in self.fees]
        if missing:
            raise ValueError(f"no fee for {', '.join(missing)}")
        return self

    def fee(self, kind: CertificateType) -> int:
        return self.fees[kind]


def _refuse(reason: str, message: str, ja: str) -> Refused:
    return Refused(reason, message, message_ja=ja)


def _year_end(day: date) -> bool:
    """29 December to 3 January: the store service is closed (年末年始)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def check_hours(
    rules: StoreRules, kind: CertificateType, now: datetime, family_window: bool = True
) -> None:
    """Service hours, the year-end closure, maintenance, and the family-register window.

    A domicile registration (本籍地利用登録) obeys the first three but not the
    window: staff review it later, on a working day.
    """
    if _year_end(now.date()):
        raise _refuse(
            "closed_year_end",
            "the store service is closed from 29 December to 3 January",
            "年末年始（12月29日〜1月3日）はご利用いただけません。",
        )
    if not rules.opens <= now.time() < rules.closes:
        raise _refuse(
            "outside_hours",
            f"the store service runs {rules.opens:%H:%M}–{rules.closes:%H:%M}",
            f"ご利用時間は{rules.opens:%H:%M}〜{rules.closes:%H:%M}です。",
        )
    if any(w.covers(now, kind) for w in rules.maintenance):
        raise _refuse(
            "maintenance",
            "the service is stopped for maintenance now",
            "システムメンテナンスのため、現在ご利用いただけません。",
        )
    if family_window and kind in _FAMILY_TYPES:
        weekday = now.weekday() < 5 and not jpholiday.is_holiday(now.date())
        window = rules.family_register_opens <= now.time() < rules.family_register_closes
        if not (weekday and window):
            opens, closes = rules.family_register_opens, rules.family_register_closes
            raise _refuse(
                "family_register_hours",
                f"family-register documents are issued on weekdays {opens:%H:%M}–{closes:%H:%M}",
                f"戸籍証明書等は平日{opens:%H:%M}〜{closes:%H:%M}のみ交付できます。",
            )


def check_person(
    rules: StoreRules, person: Resident, household: Sequence[Resident], today: date
) -> None:
    """Who may use a store: age, residence, moves, the day of moving in, printable names."""
    if person.age_on(today) < rules.minimum_age:
        raise _refuse(
            "under_age",
            f"the store service is for residents aged {rules.minimum_age} and over",
            f"{rules.minimum_age}歳未満の方はご利用いただけません。",
        )
    if not person.is_resident:
        raise _refuse(
            "moved_out",
            "this person is no longer registered here; apply at a counter",
            "住民登録がないため、コンビニ交付はご利用いただけません。",
        )
    if person.planned_move_out is not None:
        raise _refuse(
            "move_out_pending",
            "a move-out has been notified; apply at a counter",
            "転出の届出をされているため、コンビニ交付はご利用いただけません。",
        )
    if rules.refuse_household_with_planned_mover and any(m.planned_move_out for m in household):
        raise _refuse(
            "household_move_out_pending",
            "someone in the household has notified a move-out",
            "世帯に転出予定の方がいるため、住民票はコンビニで交付できません。",
        )
    if person.address_set_on == today or person.became_resident_on == today:
        raise _refuse(
            "moved_in_today",
            "certificates are not issued at stores on the day of moving in",
            "転入・転居の当日はコンビニ交付をご利用いただけません。",
        )
    if len(person.name.replace("　", "")) > rules.name_limit:
        raise _refuse(
            "name_too_long",
            "the name is longer than the store form can print",
            "氏名の文字数が多いため、コンビニでは交付できません。窓口をご利用ください。",
        )


def check_card(card: CardRecord | None, today: date) -> CardRecord:
    """The card behind the authenticated certificate must be this city's, active and unexpired."""
    if card is None:
        raise _refuse(
            "card_unknown",
            "this card is not registered with this city",
            "このカードは当市で登録されていません。",
        )
    if card.state is not CardState.ACTIVE:
        raise _refuse(
            f"card_{card.state.value}",
            f"the card is {card.state.value}",
            "カードが利用停止・返納・廃止されているため、ご利用いただけません。",
        )
    if card.expires_on < today or card.certificates_expire_on < today:
        raise _refuse(
            "card_expired",
            "the card or its certificate has expired",
            "カードまたは電子証明書の有効期限が切れています。",
        )
    if card.moved_in_on is not None and card.continued_on is None:  # 継続利用 outstanding
        if today - card.moved_in_on > CONTINUE_WITHIN:
            raise _refuse(
                "card_not_continued_expired",
                "the card was not carried over within 90 days of the move-in; it is invalid",
                "転入後90日以内に継続利用の手続きがされなかったため、このカードは無効です。",
            )
        raise _refuse(
            "card_not_continued",
            "the card has not been carried over since the move-in; "
            "ask at the city's counter (継続利用)",
            "転入後の継続利用の手続きがされていません。市区町村の窓口で手続きしてください。",
        )
    return card


def check_offered(rules: StoreRules, kind: CertificateType) -> None:
    """Whether this city issues the type at stores at all."""
    if kind not in rules.types:
        raise _refuse(
            "type_not_offered",
            f"{kind.label} is not issued at stores by this city",
            f"{kind.label}はコンビニでは交付していません。",
        )


def check_store_request(
    rules: StoreRules,
    request: IssueRequest,
    person: Resident,
    household: Sequence[Resident],
    now: datetime,
) -> None:
    """Everything the store path checks before composing; the first rule broken is the reason."""
    check_offered(rules, request.type)
    if Item.RESIDENT_CODE in request.items:
        raise _refuse(
            "item_not_at_store",
            "the resident code is never printed at a store",
            "住民票コードの記載された住民票はコンビニでは交付できません。",
        )
    if Item.INDIVIDUAL_NUMBER in request.items and not rules.individual_number_allowed:
        raise _refuse(
            "item_not_at_store",
            "this city does not print the individual number at stores",
            "個人番号の記載された住民票はコンビニでは交付できません。",
        )
    if request.history:
        raise _refuse(
            "item_not_at_store",
            "address history is not printed at stores",
            "住所の履歴はコンビニでは記載できません。",
        )
    check_hours(rules, request.type, now)
    check_person(rules, person, household, now.date())
