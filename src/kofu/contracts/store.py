"""center ↔ city: the certificate issuance server (証明発行サーバ) and its request ids.

``POST /certificates/store``: ``StoreRequest`` → ``StoreAnswer`` (or a 403
refusal with a reason).  ``GET /certificates/store/{request_id}`` and
``POST …/abandon``: → ``StoreOutcome``, what the city did under the id.
``POST /certificates/store/{request_id}/printed``: ``StorePrinted`` → ``PrintRecorded``,
the center telling the city a kiosk confirmed the print (the city's activity log counts it).
``POST /certificates/store/prints``: ``StorePrints`` → ``PrintsRecorded``, the same for
many prints at once (what the center sends: one exchange per city and turn, not per print).
``GET /health``: → ``CityHealth``, whose name the center shows kiosks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, Field, StrictStr, model_validator

from kofu.contracts import (
    AuthSerial,
    CityCode,
    Contract,
    Digest,
    Integer,
    NotText,
    RequestId,
    ResidentCodeText,
)

__all__ = [
    "PRINTS_PER_NOTICE",
    "Certificate",
    "CityHealth",
    "IssueOptions",
    "Item",
    "PrintRecorded",
    "PrintRefused",
    "PrintsRecorded",
    "StoreAnswer",
    "StoreOutcome",
    "StorePrinted",
    "StorePrints",
    "StoreRequest",
]

Certificate = Literal[
    "juminhyo",  # 住民票の写し
    "johyo",  # 住民票の除票の写し
    "inkan",  # 印鑑登録証明書
    "kazei",  # 課税証明書
    "shotoku",  # 所得証明書
    "koseki-zenbu",  # 戸籍全部事項証明書
    "koseki-kojin",  # 戸籍個人事項証明書
    "fuhyo",  # 戸籍の附票の写し
    "kisai",  # 住民票記載事項証明書 (offered at a store only where the city's rules say so)
    "johyo-kisai",  # 除票記載事項証明書
]
"""The certificate asked for (the city's CertificateType values, the CLI's ``--type``)."""

Item = Literal["head", "domicile", "individual_number", "resident_code", "foreign"]
"""Optional items of a residence certificate (記載事項, the CLI's ``--with``)."""


class IssueOptions(Contract):
    """What the resident chose beyond the certificate: whose record, which items, which year."""

    household: Literal["all", "self", "members"] | None = None  # 世帯全員 / 本人のみ / 一部
    members: tuple[ResidentCodeText, ...] = Field(default=(), max_length=100)
    items: tuple[Item, ...] = Field(default=(), max_length=5)
    fiscal_year: Annotated[int, Field(ge=1989, le=2200), NotText] | None = None  # 年度 (課税・所得)


class StoreRequest(Contract):
    """The center asks the city for a certificate for the holder of an authenticated card.

    The request names the card (its authentication certificate's serial),
    never a person: the city issues for that card's holder only.
    """

    request_id: RequestId
    auth_serial: AuthSerial
    certificate: Certificate
    options: IssueOptions = IssueOptions()
    route: Literal["residence", "domicile"] = "residence"  # 住所地 or 本籍地


class StoreAnswer(Contract):
    """The city's document: the PDF, the digests the center checks, and the fee per copy."""

    request_id: RequestId
    city: CityCode
    certificate: Certificate
    issue_number: Integer
    content_digest: Digest  # SHA-256 of the PDF's bytes
    holder_digest: Annotated[StrictStr, Field(max_length=128)]  # whose record it is
    holder_name: Annotated[StrictStr, Field(max_length=128)] = ""
    fee: Annotated[int, Field(ge=0), NotText]
    pdf_base64: StrictStr


class StoreOutcome(Contract):
    """What the city did under a request id: the center's recovery asks this."""

    request_id: RequestId
    state: Literal["issued", "refused", "abandoned", "unknown"]
    answer: StoreAnswer | None = None  # issued: the same answer as the first time
    reason: StrictStr | None = None  # refused: the refusal's reason code and words
    message: StrictStr | None = None
    message_ja: StrictStr | None = None

    @model_validator(mode="after")
    def _answer_when_issued(self) -> Self:
        if (self.state == "issued") != (self.answer is not None):
            raise ValueError("answer is given exactly when the state is issued")
        if self.state == "refused" and not self.reason:
            raise ValueError("a refused outcome names its reason")
        return self


class CityHealth(Contract):
    """A city's server is up: its code, its name (prefecture and municipality), its clock."""

    city: CityCode
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    status: Literal["ok"]
    now: datetime


class StorePrinted(Contract):
    """The center tells the city that the kiosk printed every copy of a store request's document.

    Only a confirmed print is an issuance the evaluation sheets count; the
    city takes the certificate type from its own kept answer, never from
    this message, and counts each request id once.
    """

    request_id: RequestId
    city: CityCode
    copies: Annotated[int, Field(ge=1, le=20), NotText]
    fee: Annotated[int, Field(ge=0, le=100_000), NotText]  # yen for all copies, as charged
    chain: Annotated[StrictStr, Field(max_length=32)] = ""  # the store chain (精算単位)
    printed_at: AwareDatetime  # with its offset: a time without one names no moment


class PrintRecorded(Contract):
    """The city counted the print (``recorded``) or had counted it before (``already``)."""

    request_id: RequestId
    state: Literal["recorded", "already"]


PRINTS_PER_NOTICE = 200  # prints told in one exchange at most


class StorePrints(Contract):
    """Prints the center confirmed, told to their city together.

    A store chain prints tens of certificates a second at its busiest; telling
    the city of each in an exchange of its own cost both sides more than the
    print itself.  Each print is counted once under its request id, whichever
    message (this or ``StorePrinted``) brought it.
    """

    prints: Annotated[list[StorePrinted], Field(min_length=1, max_length=PRINTS_PER_NOTICE)]


class PrintRefused(Contract):
    """A print the city cannot count: no issued answer is kept under its request id."""

    request_id: RequestId
    reason: Literal["unknown_request", "not_issued"]


class PrintsRecorded(Contract):
    """What the city did with each print of a ``StorePrints``: counted (now or before), or not."""

    recorded: list[PrintRecorded]
    refused: list[PrintRefused]
