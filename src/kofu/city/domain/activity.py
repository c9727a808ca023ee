"""The activity log (業務実績): what the city's work did, counted later by the evaluation sheets.

Every operation that the evaluation sheets count (a card handed over, a
certificate issued, a store print confirmed, …) appends one ``Activity`` in
the same transaction as the work itself, so a figure on a sheet can always
be traced to the records behind it.  The log is append-only: a correction is
a *reversal*, a new row that points at the original (``voids``) and carries
its negated counts, dated at the original's instant so that it leaves the
original's fiscal year (EVALUATION.md §2.2).

Kinds are EVALUATION.md §2.3's event types.  The Juki-net kinds (wide-area
certificates, special moves, resident code changes, link checks) are
defined here so that the Juki-net code only has to call
``kofu.city.adapters.activity.record_activity`` with one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from kofu.core.errors import InvalidInput

__all__ = [
    "JST",
    "Activity",
    "ActivityKind",
    "Origin",
    "at_noon",
    "fiscal_year_of",
    "fy_bounds",
    "fy_months",
    "jst_day",
    "month_of",
    "monthly_dashboard",
]

JST = timezone(timedelta(hours=9), "JST")


class ActivityKind(StrEnum):
    """The event types of EVALUATION.md §2.3 (stable names, used in the import CSV)."""

    CARD_APPLICATION = "card.application_received"  # channel: counter/mail/online/…/outreach
    CARD_ISSUED = "card.issued"  # role: new / renewal / reissue (交付)
    # 交付枠, dated at the slot's start: count = capacity; role = defined / increase / decrease
    CARD_SLOT_DEFINED = "card.issuance_slot_defined"
    CARD_SLOT_BOOKED = "card.issuance_booked"  # one booking, dated at its slot's start
    CARD_ABOLISHED = "card.abolished"  # cause: reissue / returned / moved_again / not_continued
    CARD_EXPIRED = "card.expired"  # the card's validity ended (imported; see docs/evaluation.md)
    JPKI_ISSUED = "jpki.certificate_issued"  # doc_type: signature/user-auth; role: new/renewal
    CERTIFICATE_ISSUED = "certificate.issued"  # doc_type, channel, copies, fee_yen
    CERTIFICATE_REFUSED = "certificate.refused"  # channel, cause: the refusal's reason code
    WIDEAREA_JUMINHYO = "widearea_juminhyo.issued"  # role: issuing / residence (Juki-net)
    SPECIAL_MOVEOUT = "special_moveout.processed"  # channel (Juki-net)
    SPECIAL_MOVEIN = "special_movein.processed"  # channel (Juki-net)
    RESIDENT_CODE_CHANGED = "resident_code.changed"  # channel: counter / mail (Juki-net)
    LINK_CHECK = "juki.link_check_run"  # count: runs; copies: mismatches (Juki-net)
    MIS_ISSUANCE = "mis_issuance.detected"  # cause: how it was detected
    SEAL_REGISTERED = "seal.registered"  # role: new / re-registration
    COMPLAINT = "complaint.recorded"  # cause: issuance_error / waiting / staff_conduct / …
    STAFF_TIME = "staff.time_logged"  # programme, role: staff category, count: minutes
    FINANCE = "finance.amount_recorded"  # programme, fee_yen: amount, detail: FY/stage/節/…


class Origin(StrEnum):
    """Where a record came from: kofu's own work, a history import, or a staff entry."""

    OPERATION = "operation"
    IMPORT = "import"
    STAFF = "staff"


_TEXT_LIMIT = 64
COUNTER_CHANNELS = ("counter", "wide_area")  # refusals a clerk met, not a store's
COMPLAINT_CAUSES = ("issuance_error", "waiting", "staff_conduct", "outage", "other")


@dataclass(frozen=True)
class Activity:
    """One entry of the log, as it is appended (the store gives it its number)."""

    kind: ActivityKind
    occurred_at: datetime  # aware; the fiscal year is taken in Japan time
    count: int = 1
    channel: str = ""
    doc_type: str = ""
    role: str = ""
    cause: str = ""
    copies: int = 0
    fee_yen: int = 0
    programme: str = ""
    origin: Origin = Origin.OPERATION
    ref: str | None = None  # idempotency key: the same work is logged once
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise InvalidInput("an activity's time needs its time zone", field="occurred_at")
        for name in ("channel", "doc_type", "role", "cause", "programme"):
            value = getattr(self, name)
            if len(value) > _TEXT_LIMIT or any(ord(c) < 32 for c in value):
                raise InvalidInput(f"{name} is at most {_TEXT_LIMIT} plain characters", field=name)
        for name in ("count", "copies", "fee_yen"):
            if getattr(self, name) < 0:
                raise InvalidInput(
                    f"{name} is never negative (a correction is a reversal)", field=name
                )

    @property
    def day(self) -> date:
        return jst_day(self.occurred_at)


def jst_day(at: datetime) -> date:
    """The calendar day in Japan of an instant."""
    return at.astimezone(JST).date()


def at_noon(day: date) -> datetime:
    """An instant for work known only by its day (noon in Japan: never on the wrong day)."""
    return datetime.combine(day, time(12), JST)


def fiscal_year_of(day: date) -> int:
    """会計年度: April to March; January–March belong to the year before."""
    return day.year if day.month >= 4 else day.year - 1


def fy_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day (Japan time, inclusive) of fiscal year ``fiscal_year``."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def month_of(day: date) -> str:
    """``2026-11``: the month a day counts in on the dashboard."""
    return f"{day.year:04d}-{day.month:02d}"


def fy_months(fiscal_year: int) -> list[str]:
    """The twelve months of a fiscal year, April first."""
    return [
        month_of(date(fiscal_year + (m < 4), m, 1)) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
    ]


def monthly_dashboard(
    fiscal_year: int, daily: list[tuple[date, str, str, str, int, int]]
) -> dict[str, object]:
    """A fiscal year month by month, from daily sums (day, kind, channel, cause, n, copies).

    Store share is store copies ÷ all copies of certificates, half-up to one
    decimal; refusals are counted by their reason code, the store's
    (``refusals``) apart from the counter's (``counter_refusals``);
    mis-issuances have the goal 0.
    """
    months = {
        m: {"store": 0, "all": 0, "cards": 0, "mis_issuances": 0} for m in fy_months(fiscal_year)
    }
    refusals: dict[str, dict[str, int]] = {}
    at_counter: dict[str, dict[str, int]] = {}
    for day, kind, channel, cause, n, copies in daily:
        month = months.get(month_of(day))
        if month is None:
            continue
        if kind == ActivityKind.CERTIFICATE_ISSUED:
            month["all"] += copies
            if channel == "store":
                month["store"] += copies
        elif kind == ActivityKind.CARD_ISSUED:
            month["cards"] += n
        elif kind == ActivityKind.MIS_ISSUANCE:
            month["mis_issuances"] += n
        elif kind == ActivityKind.CERTIFICATE_REFUSED:
            book = at_counter if channel in COUNTER_CHANNELS else refusals
            by_reason = book.setdefault(cause or "unknown", {})
            by_reason[month_of(day)] = by_reason.get(month_of(day), 0) + n
    rows = []
    for name, m in months.items():
        share = None
        if m["all"]:
            exact = Decimal(m["store"]) / Decimal(m["all"]) * 100
            share = str(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        rows.append({"month": name, "store_share": share, **m})
    return {
        "fiscal_year": fiscal_year,
        "months": rows,
        "refusals": refusals,
        "counter_refusals": at_counter,
    }
