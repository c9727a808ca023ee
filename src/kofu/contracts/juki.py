"""cities and center ↔ juki (Juki-net, 本人確認情報), over LGWAN with mutual TLS.

``POST /identities`` (a city, for its own residents): ``IdentityReports`` →
``ReportCounts``.  ``GET /residents/{resident_code}`` (the center):
→ ``IdentityReport`` of the city that holds the person's record now.
``GET /store`` → ``JukiStore``, the identity of juki's store.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StrictStr, StringConstraints

from kofu.contracts import CityCode, Contract, Integer, NotText

__all__ = ["IdentityReport", "IdentityReports", "JukiStore", "ReportCounts"]

MAX_BATCH = 1000  # records in one report; a city sends more in several


# The shapes of the codes; their check digits are juki's rule (a wrong one is a 422 naming the
# record by its place), which no JSON schema can say.
_RESIDENT_CODE = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{11}$")]
_INDIVIDUAL_NUMBER = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{12}$")]


class IdentityReport(Contract):
    """本人確認情報 of one person as one city reports it: codes, 基本4情報, state, version."""

    resident_code: _RESIDENT_CODE  # 住民票コード
    individual_number: _INDIVIDUAL_NUMBER  # 個人番号
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    birth_date: date
    sex: Literal["male", "female"]
    address: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    city: CityCode  # the reporting municipality
    state: Literal["resident", "moved_out", "deceased"]  # a removed record is 除票
    version: Annotated[int, Field(ge=1, le=2**31 - 1), NotText]  # the city's, kept as INTEGER
    since: date  # the date the record took this state (転入日, 消除日 …)


class IdentityReports(Contract):
    """A city's batch of changed records; juki stores all of them or none."""

    city: CityCode
    records: tuple[IdentityReport, ...] = Field(min_length=1, max_length=MAX_BATCH)


class ReportCounts(Contract):
    """What juki did with a batch: new, newer than it had, or already had."""

    stored: Integer
    replaced: Integer
    unchanged: Integer


class JukiStore(Contract):
    """juki's store's identity: another one than last time has none of a city's reports."""

    store_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
