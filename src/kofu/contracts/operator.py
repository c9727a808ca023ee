"""operator ↔ center: the books and the watch, read on an ``operator`` certificate (mutual TLS).

``GET /settlement?month=YYYY-MM`` → ``Settlement`` (月次精算: printed
issuances, copies and fees per city and store chain; ``kofu settle
--center`` reads it).  ``GET /status`` → ``CenterStatus`` (稼働状況:
alarms, the cities they stopped, the issuance log's states; the status
page shows the same).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from kofu.contracts import Contract, Integer

__all__ = ["Alarm", "CenterStatus", "CityStateCount", "Settlement", "SettlementRow"]

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


class CenterStatus(Contract):
    """The center as the operator watches it."""

    now: datetime
    alarms: tuple[Alarm, ...]
    stopped_cities: tuple[City, ...]
    issuances: dict[State, Count]  # entries of the issuance log per state
    per_city: tuple[CityStateCount, ...]
    print_timeout_seconds: Count
