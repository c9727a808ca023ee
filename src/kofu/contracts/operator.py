"""operator ↔ center: the books and the watch, read on an ``operator`` certificate (mutual TLS).

``GET /settlement?month=YYYY-MM`` → ``Settlement`` (月次精算: printed
issuances, copies and fees per city and store chain; ``kofu settle
--center`` reads it).  ``GET /status`` → ``CenterStatus`` (稼働状況:
alarms, the cities they stopped, the issuance log's states; the status
page shows the same).  ``GET /log?since&until&city&chain&state&limit`` →
``IssuanceLog`` (交付記録: the entries, newest first, without their print jobs).

``POST /alarms/{city}/resume`` with ``ResumeRequest`` → ``Resumed``
(交付再開: a city an alarm stopped issues again) on an ``operator-supervisor``
certificate only (``operator-supervisor-…`` too; a plain operator or a kiosk
is 403 ``caller_not_allowed``).  The same request id again answers the same
resume; a missing reason is 422 naming ``reason``, a city the center does
not know 404 and one not stopped 409, naming ``city``.  An alarm raised
after the resume stops the city again; every resume stays on record
(``CenterStatus.resumes``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from kofu.contracts import Contract, Integer, RequestId

__all__ = [
    "Alarm",
    "CenterStatus",
    "CityStateCount",
    "IssuanceLog",
    "LogEntry",
    "ResumeRequest",
    "Resumed",
    "Settlement",
    "SettlementRow",
]

Count = Annotated[Integer, Field(ge=0)]
State = Annotated[StrictStr, Field(max_length=16)]  # requested, rendered, printed, voided
City = Annotated[StrictStr, Field(max_length=6)]  # a city's code ("" on an alarm naming none)


class SettlementRow(Contract):
    """One city and store chain in a month: printed issuances, their copies, the fees charged."""

    city: City
    chain: Annotated[StrictStr, Field(max_length=32)]
    issuances: Count
    copies: Count
    fees: Count  # yen


class Settlement(Contract):
    month: Annotated[StrictStr, Field(max_length=16)]  # YYYY-MM, as asked
    rows: tuple[SettlementRow, ...]


class Alarm(Contract):
    """Something the operator must look into; one naming a city stopped that city's issuance."""

    at: datetime
    city: City
    kind: Annotated[StrictStr, Field(max_length=32)]  # holder_mismatch, content_mismatch, …
    detail: StrictStr


class CityStateCount(Contract):
    city: City
    state: State
    count: Count


class ResumeRequest(Contract):
    """A supervisor's resume of a stopped city: the request's key and why (required)."""

    request_id: RequestId
    reason: Annotated[StrictStr, Field(max_length=2000)]  # 1 to 500 characters once trimmed


class Resumed(Contract):
    """A resume as kept: who (the supervisor's certificate name), when, which city, why."""

    request_id: RequestId
    at: datetime
    city: City
    operator: Annotated[StrictStr, Field(max_length=48)]  # "" without mutual TLS
    reason: StrictStr


class CenterStatus(Contract):
    """The center as the operator watches it."""

    now: datetime
    alarms: tuple[Alarm, ...]  # every alarm, resumed or not
    stopped_cities: tuple[City, ...]  # cities an alarm raised since their last resume stops
    issuances: dict[State, Count]  # entries of the issuance log per state
    per_city: tuple[CityStateCount, ...]
    print_timeout_seconds: Count
    resumes: tuple[Resumed, ...] = ()  # every resume, oldest first


class LogEntry(Contract):
    """One issuance as the log keeps it: which card's request, where, in what state, what fee."""

    request_id: RequestId
    state: State
    city: City
    store: Annotated[StrictStr, Field(max_length=32)]
    chain: Annotated[StrictStr, Field(max_length=32)]
    certificate: Annotated[StrictStr, Field(max_length=16)]
    copies: Count
    fee: Count  # yen, charged only once printed
    created_at: datetime
    updated_at: datetime
    reason: StrictStr | None = None  # why it was voided, or why it waits


class IssuanceLog(Contract):
    entries: tuple[LogEntry, ...]
