"""cities and center ↔ juki (Juki-net, 本人確認情報), over LGWAN with mutual TLS.

``POST /identities`` (a city, for its own residents): ``IdentityReports`` →
``ReportCounts``.  ``GET /residents/{resident_code}`` (the center):
→ ``IdentityReport`` of the city that holds the person's record now.
``GET /store`` → ``JukiStore``, the identity of juki's store.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictStr, StringConstraints

from kofu.contracts import CityCode, Contract, Integer, NotText

__all__ = [
    "MAX_NOTICES",
    "CodeBlock",
    "CodeBlockRequest",
    "Disclosure",
    "HeldRecords",
    "IdentityNotice",
    "IdentityNotices",
    "IdentityReport",
    "IdentityReports",
    "JukiStore",
    "NoticeReceipt",
    "ProvidedIdentity",
    "Provision",
    "ReportCounts",
    "SenderName",
    "SequenceRefusal",
]

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


# --- Juki-net proper: cities → prefecture servers → the national server -------------------------
#
# ``POST /notices`` (a city to its prefecture's server, a prefecture's server to the national
# server): ``IdentityNotices`` → ``NoticeReceipt``.  Each sender numbers its notices 1, 2, 3 …;
# the receiver applies them in that order only: a seq it has already applied gets the same
# answer again and changes nothing, a seq past the next one is refused (409 ``sequence_gap``
# naming ``expected_seq``) and nothing of the batch is applied.
# ``POST /code-blocks``: ``CodeBlockRequest`` → ``CodeBlock`` (未使用住民票コード, idempotent by
# request id).  ``GET /cities/{city}/records?after=RC`` → ``HeldRecords`` (整合性確認).
# ``GET /identity/{resident_code}?purpose=CODE`` (an authorised agency, national only) →
# ``ProvidedIdentity``; ``GET /disclosures/{resident_code}`` → ``Disclosure``.

MAX_NOTICES = 500  # notices in one batch
SenderName = Annotated[
    str, StringConstraints(strict=True, pattern=r"^(city-[0-9]{6}|pref-[0-9]{2})$")
]
_REASON = Annotated[StrictStr, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


class IdentityNotice(Contract):
    """One change of 本人確認情報 (本人確認情報の通知): the record after it, why and when."""

    seq: Annotated[int, Field(ge=1, le=2**53 - 1), NotText]  # the sender's, JSON-safe
    record: IdentityReport
    reason: _REASON  # 異動事由: the register event's kind (birth, moved_in, resident_code_change …)
    effective: date  # 異動日
    retires: _RESIDENT_CODE | None = None  # the old code, on a resident code change
    recorded_at: datetime  # when the city wrote it (its outbox), for end-to-end lag


class IdentityNotices(Contract):
    """A batch of consecutive notices from one sender, applied all or none, in order."""

    sender: SenderName
    notices: tuple[IdentityNotice, ...] = Field(min_length=1, max_length=MAX_NOTICES)


class NoticeReceipt(Contract):
    """What the receiver holds of a sender after a batch: every seq up to ``applied_through``."""

    sender: SenderName
    applied_through: Integer
    applied: Integer  # new in this batch
    already: Integer  # seen before (a resend): the same answer, nothing changed


class SequenceRefusal(Contract):
    """The 409 body of a batch that skips a seq or contradicts one already applied."""

    error: Literal["Conflict"]
    reason: Literal["sequence_gap", "sequence_conflict"]
    message: StrictStr
    expected_seq: Integer
    field: Literal["seq"] = "seq"


class CodeBlockRequest(Contract):
    """A holder (a city, or a prefecture's server) asks for unused resident codes."""

    request_id: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{8,64}$")]
    holder: SenderName
    count: Annotated[int, Field(ge=1, le=100_000), NotText]


class CodeBlock(Contract):
    """Codes with the 10-digit bases first … first + count - 1 (and check digits), for a holder."""

    block_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    holder: SenderName
    first: Annotated[int, Field(ge=0, lt=10**10), NotText]
    count: Annotated[int, Field(ge=1, le=100_000), NotText]


class HeldRecords(Contract):
    """A page of the records a server holds of one city, by resident code (整合性確認)."""

    city: CityCode
    held_by: Annotated[StrictStr, Field(min_length=1, max_length=32)]  # pref-11, national
    records: tuple[IdentityReport, ...]
    retired: tuple[_RESIDENT_CODE, ...] = ()  # the city's codes retired by a code change
    next_after: _RESIDENT_CODE | None = None  # ask again with after=this for the next page


class ProvidedIdentity(Contract):
    """本人確認情報 as provided to an agency (住基法30条の9), logged under ``provision_id``."""

    provision_id: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    record: IdentityReport
    agency: Annotated[StrictStr, Field(min_length=1, max_length=48)]
    purpose: Annotated[StrictStr, Field(min_length=1, max_length=48)]
    provided_at: datetime


class Provision(Contract):
    """One provision of the person's facts: to whom, why, when (提供状況)."""

    provision_id: StrictStr
    agency: StrictStr
    purpose: StrictStr
    provided_at: datetime


class Disclosure(Contract):
    """本人確認情報の開示 and 提供状況の開示: what is held of the person, and who was given it."""

    resident_code: _RESIDENT_CODE
    records: tuple[IdentityReport, ...]
    provisions: tuple[Provision, ...]
