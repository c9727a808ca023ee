"""cities and center ↔ juki (Juki-net, 本人確認情報), over LGWAN with mutual TLS.

``POST /identities`` (a city, for its own residents): ``IdentityReports`` →
``ReportCounts``.  ``GET /residents/{resident_code}`` (the center):
→ ``IdentityReport`` of the city that holds the person's record now.
``GET /store`` → ``JukiStore``, the identity of juki's store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr

from kofu.contracts import Contract
from kofu.core.errors import InvalidInput
from kofu.core.identifiers import IndividualNumber, LocalGovernmentCode, ResidentCode

__all__ = ["IdentityReport", "IdentityReports", "JukiStore", "ReportCounts"]

MAX_BATCH = 1000  # records in one report; a city sends more in several


def _checked(kind: Callable[[str], str]) -> AfterValidator:
    """An identifier whose check digit is checked (a wrong one is a 422 naming the field)."""

    def check(value: str) -> str:
        try:
            return str(kind(value))
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    return AfterValidator(check)


class IdentityReport(Contract):
    """本人確認情報 of one person as one city reports it: codes, 基本4情報, state, version."""

    resident_code: Annotated[StrictStr, _checked(ResidentCode)]  # 住民票コード
    individual_number: Annotated[StrictStr, _checked(IndividualNumber)]  # 個人番号
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    birth_date: date
    sex: Literal["male", "female"]
    address: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    city: Annotated[StrictStr, _checked(LocalGovernmentCode)]  # the reporting municipality
    state: Literal["resident", "moved_out", "deceased"]  # a removed record is 除票
    version: Annotated[StrictInt, Field(ge=1)]  # the city's version of this record
    since: date  # the date the record took this state (転入日, 消除日 …)


class IdentityReports(Contract):
    """A city's batch of changed records; juki stores all of them or none."""

    city: Annotated[StrictStr, _checked(LocalGovernmentCode)]
    records: tuple[IdentityReport, ...] = Field(min_length=1, max_length=MAX_BATCH)


class ReportCounts(Contract):
    """What juki did with a batch: new, newer than it had, or already had."""

    stored: StrictInt
    replaced: StrictInt
    unchanged: StrictInt


class JukiStore(Contract):
    """juki's store's identity: another one than last time has none of a city's reports."""

    store_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
