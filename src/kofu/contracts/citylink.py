"""city ↔ city over Juki-net (LGWAN, mutual TLS): wide-area certificates and special moves.

``POST /citylink/wide-area`` (any other city, as ``city-CODE``):
``WideAreaRequest`` → ``WideAreaAnswer``, at the person's home city
(住所地市町村), which applies its own rules and answers the residence
certificate's content, or a refusal carrying only its reason code (a
support-measure subject's refusal says nothing of why).  The issuing city
prints it on its own paper with its own certification (住基法12条の4).

``GET /citylink/move-outs/{resident_code}`` (only the city the move-out names
as its destination): → ``MoveOutData``, the 転出証明書情報 of a special
move-out (転出届の特例), which replaces the paper move-out certificate.
``POST /citylink/move-ins`` (the same destination city): ``MoveInNotice`` →
``MoveInReceipt``, the 転入通知 that closes the move-out data, so a second
move-in from it is refused.  Both are idempotent under their ids.

``POST /citylink/move-in-notices`` (only the city the person moved into, as
``city-CODE``): ``OrdinaryMoveInNotice`` → ``OrdinaryMoveInReceipt``, the
転入通知 of an ordinary move (住基法9条1項, a paper 転出証明書 brought to the
new city): the old city confirms the move-out (予定 → 確定).  Idempotent
under ``notice_id``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictStr

from kofu.contracts import CityCode, Contract, RequestId, ResidentCodeText
from kofu.core.text import PlainText

__all__ = [
    "CertifiedResident",
    "CitylinkAddress",
    "CitylinkRefusal",
    "MoveInNotice",
    "MoveInReceipt",
    "MoveOutData",
    "MovingCard",
    "MovingPerson",
    "OrdinaryMoveInNotice",
    "OrdinaryMoveInReceipt",
    "WideAreaAnswer",
    "WideAreaRequest",
]

Text64 = Annotated[PlainText, Field(strict=True, min_length=1, max_length=64)]
Text200 = Annotated[PlainText, Field(strict=True, max_length=200)]
Sex = Literal["male", "female"]
WideAreaItem = Literal["head", "individual_number", "resident_code"]  # never 本籍・筆頭者


class CitylinkAddress(Contract):
    """An address as a register writes it (住所, 転入前住所, 転出先)."""

    postal_code: Annotated[StrictStr, Field(max_length=8)] | None = None
    prefecture: Text64
    city: Text64
    town: Text200 = ""
    block: Text200 = ""
    building: Text200 = ""


class WideAreaRequest(Contract):
    """A resident of another city asks at the issuing city's counter, photo ID checked."""

    request_id: RequestId
    issuing_city: CityCode
    resident: ResidentCodeText
    id_check: Literal["card", "licence"]  # 個人番号カード / 運転免許証 (写真付き)
    household: Literal["self", "all", "members"] = "self"
    members: tuple[ResidentCodeText, ...] = Field(default=(), max_length=30)
    items: tuple[WideAreaItem, ...] = Field(default=(), max_length=3)


class CertifiedResident(Contract):
    """One person as the home city certifies them: never 本籍・筆頭者, never address history."""

    name: Text64
    kana: Annotated[StrictStr, Field(max_length=128)]
    birth_date: date
    sex: Sex
    relationship: Text64  # 続柄, printed only with the item "head"
    became_resident_on: date
    address_set_on: date
    notified_on: date
    previous_address: CitylinkAddress | None = None  # 転入前住所, as the form always prints it
    nationality: Text64 | None = None  # 国籍・地域 of a foreign resident
    individual_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")] | None = None
    resident_code: ResidentCodeText | None = None


class CitylinkRefusal(Contract):
    """Why the other city said no: a stable code, and words that never say more than the code."""

    reason: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    message: Annotated[StrictStr, Field(max_length=300)]
    message_ja: Annotated[StrictStr, Field(max_length=300)]


class WideAreaAnswer(Contract):
    """The home city's answer: the certificate's content, or a refusal."""

    request_id: RequestId
    home_city: CityCode
    home_city_name: Text64  # 埼玉県深谷市: printed as the record's keeper
    state: Literal["issued", "refused"]
    address: CitylinkAddress | None = None
    household_head: Text64 | None = None
    whole_household: StrictBool = False
    items: tuple[WideAreaItem, ...] = ()
    members: tuple[CertifiedResident, ...] = Field(default=(), max_length=30)
    subjects: tuple[ResidentCodeText, ...] = Field(default=(), max_length=30)  # for the logs
    refusal: CitylinkRefusal | None = None


class MovingCard(Contract):
    """The moving person's card as the old city records it (its state decides the move-in)."""

    card_id: Annotated[StrictStr, Field(min_length=1, max_length=32)]
    auth_serial: Annotated[StrictStr, Field(min_length=1, max_length=40)]
    state: Literal["active", "suspended", "returned", "abolished", "expired"]
    expires_on: date
    certificates_expire_on: date
    issuer_secret: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32,128}$")]
    issued_on: date | None = None  # 交付日 at the city that issued it
    moved_in_on: date | None = None  # set while a previous move's 継続利用 is outstanding
    continued_on: date | None = None


class MovingPerson(Contract):
    """One member of the moving household, as the 転出証明書 lists them."""

    resident_code: ResidentCodeText
    individual_number: Annotated[StrictStr, Field(pattern=r"^[0-9]{12}$")]
    name: Text64
    kana: Annotated[StrictStr, Field(max_length=128)]
    birth_date: date
    sex: Sex
    relationship: Text64
    domicile: Text200 | None = None  # 本籍: the new city keeps it
    domicile_head: Text64 | None = None  # 筆頭者
    nationality: Text64 | None = None
    card: MovingCard | None = None


class MoveOutData(Contract):
    """転出証明書情報: what the old city sends the new one instead of a paper certificate."""

    move_out_id: RequestId
    from_city: CityCode
    to_city: CityCode
    state: Literal["planned", "moved_in"]  # 転出予定 until the new city's 転入通知
    notified_on: date
    planned_on: date
    channel: Literal["counter", "post", "online"]
    old_address: CitylinkAddress
    destination: CitylinkAddress
    household_head: Text64
    members: tuple[MovingPerson, ...] = Field(min_length=1, max_length=30)


class MoveInNotice(Contract):
    """転入通知: the new city registered the household from the move-out data."""

    move_out_id: RequestId
    to_city: CityCode
    moved_on: date
    notified_on: date
    residents: tuple[ResidentCodeText, ...] = Field(min_length=1, max_length=30)


class MoveInReceipt(Contract):
    """The old city closed the move-out data (again, harmlessly, for a resent notice)."""

    move_out_id: RequestId
    state: Literal["moved_in"]
    closed_at: datetime
    first: StrictBool  # false for a notice it had already taken


class OrdinaryMoveInNotice(Contract):
    """転入通知 of an ordinary move: who moved in at the new city, when and where (住基法9条1項)."""

    notice_id: RequestId
    to_city: CityCode  # the new city, which sends it
    resident: ResidentCodeText  # 住民票コード, as the 転出証明書 gave it
    name: Text64
    birth_date: date
    moved_on: date  # the day of moving in: the old city's 転出年月日（確定）
    notified_on: date  # 転入届出日 at the new city
    address: CitylinkAddress  # the new address: the old city's 転出先住所（確定）


class OrdinaryMoveInReceipt(Contract):
    """The old city confirmed the move-out (again, harmlessly, for a resent notice)."""

    notice_id: RequestId
    resident: ResidentCodeText
    state: Literal["confirmed"]
    first: StrictBool  # false for a notice it had already taken
