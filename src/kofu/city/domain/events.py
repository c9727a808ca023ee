"""Register events (異動) and how each one changes the registers.

An event is a notification the city accepts: a birth, a death, a move, a
family-register event, a seal registration, a tax assessment, a support
measure or an issuance block.  ``apply_event`` checks it against the current
registers and writes the new records; each written resident record becomes a
new version effective on the event's date, so the past stays reproducible.

Events must come in time order per person: a change dated before that
person's latest change is refused (a correction is a clerk's 職権修正, not an
event).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from kofu.city.domain import cancellation as cancellation_rules
from kofu.city.domain import family as family_rules
from kofu.city.domain import kinship
from kofu.city.domain.city import CityProfile
from kofu.city.domain.dates import EnteredDate, parse_entered_date
from kofu.city.domain.model import (
    Address,
    AliasEntry,
    ConfirmedMoveOut,
    ExOfficio,
    ForeignResidency,
    IssuanceBlock,
    Offender,
    PlannedMoveOut,
    Process,
    RemovalReason,
    Resident,
    ResidentStatus,
    SealRegistration,
    Sex,
    SupportMeasure,
    TaxAssessment,
)
from kofu.city.domain.ports import Registers
from kofu.city.domain.support import extend_measure, measure_end
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.core.identifiers import IndividualNumber, LocalGovernmentCode, ResidentCode
from kofu.core.text import first_unplain

__all__ = ["EVENT_KINDS", "Change", "Event", "apply_event", "event_kinds", "parse_event"]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective: date = Field(description="the day the change takes effect (異動日)")
    notified: date | None = Field(None, description="届出日; defaults to the effective date")

    @property
    def notified_on(self) -> date:
        return self.notified or self.effective


class _OnResident(_Event):
    resident: str = Field(description="住民票コード of the person concerned")


class NewAddress(BaseModel):
    """An address in this city: the town (大字・町名) as Japan Post names it, and the block."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    town: str
    block: str = Field(description="番地・号, e.g. 20番地1")
    building: str = ""


class OtherAddress(BaseModel):
    """An address elsewhere (転入前住所, 転出先)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    prefecture: str
    city: str
    town: str = ""
    block: str = ""
    postal_code: str | None = None

    def to_address(self) -> Address:
        return Address(**self.model_dump())


class ExOfficioIn(BaseModel):
    """職権記載等: the city writes a change nobody notified (jyuki-stnd 4.2.0.1, 4.2.0.2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    basis: str = Field(
        min_length=1, max_length=100, description="why the city writes it (実態調査, …)"
    )
    requested_on: date | None = Field(
        None, description="申出日, when written at the person's request (4.2.0.5)"
    )
    notice_on: date | None = Field(
        None, description="the day the 職権記載等通知書 was sent to the person"
    )


_EX_OFFICIO = "職権記載等 (jyuki-stnd 4.2.0.2): the city writes it without a notification"
AdoptionMove = Literal["特別養子縁組", "特別養子縁組解消"]
_ADOPTION_MOVE = "the move is for a 特別養子縁組 or its 解消: the 備考 of jyuki-stnd 1.1.14"


class Birth(_Event):
    """出生届: a child joins the mother's household and family register."""

    kind: Literal["birth"]
    resident: str | None = Field(None, description="住民票コード to assign; drawn if absent")
    name: str
    kana: str
    sex: Sex
    mother: str = Field(description="住民票コード of the mother, a resident of this city")
    father: str | None = None


class Death(_OnResident):
    """死亡届: the record becomes a 除票."""

    kind: Literal["death"]


class MoveIn(_Event):
    """転入届: a person from another municipality (or from abroad) becomes resident."""

    kind: Literal["move_in"]
    resident: str | None = Field(None, description="住民票コード; drawn from the pool if absent")
    individual_number: str | None = None
    name: str
    kana: str
    birth_date: date | str = Field(
        description="1990-01-02, 明治45年7月30日, 昭和20年3月日不詳, 昭和20年月日不詳 or 年月日不詳"
    )
    sex: Sex
    address: NewAddress
    previous_address: OtherAddress
    household: str = Field("new", description='"new" or the household id to join')
    relationship: str = Field("世帯主", description="続柄 to the household head (1.1.11 list)")
    domicile: str | None = None
    domicile_head: str | None = None
    foreign: ForeignResidency | None = None
    from_city: str | None = Field(
        None,
        description="the former city's code, from the 転出証明書: a 転入通知 is sent back to it",
    )
    ex_officio: ExOfficioIn | None = Field(None, description=_EX_OFFICIO)
    adoption: AdoptionMove | None = Field(None, description=_ADOPTION_MOVE)


class MoveOut(_OnResident):
    """転出届: before the date it is a planned move-out; on the date the record becomes 除票."""

    kind: Literal["move_out"]
    destination: OtherAddress
    ex_officio: ExOfficioIn | None = Field(
        None, description=f"{_EX_OFFICIO}; a 転出届 more than 14 days late is written so"
    )
    adoption: AdoptionMove | None = Field(
        None, description=f"{_ADOPTION_MOVE}; the 除票's 転出先 is left blank"
    )


class MoveInNoticeReceived(_OnResident):
    """転入通知の受理: the new city's notice confirms a move-out (予定 → 確定), a 除票 from now.

    ``effective`` is the day the notice is taken in (転入通知日).  The planned
    date and destination stay as notified; the confirmed ones are kept beside them.
    """

    kind: Literal["move_in_notice"]
    moved_on: date = Field(description="転出年月日（確定）: the day of moving in at the new city")
    destination: OtherAddress = Field(description="転出先住所（確定）: the address moved into")
    from_city: str | None = Field(None, description="the notifying city's code")
    notice_id: str | None = Field(None, description="the notice's id; a resend changes nothing")


class MoveWithin(_OnResident):
    """転居届: a new address in the same city, for the person or the whole household."""

    kind: Literal["move_within"]
    address: NewAddress
    whole_household: bool = True
    ex_officio: ExOfficioIn | None = Field(None, description=_EX_OFFICIO)


class NameChange(_OnResident):
    """氏名の変更 (e.g. after a family-register event)."""

    kind: Literal["name_change"]
    name: str
    kana: str


class HouseholdChange(_OnResident):
    """世帯変更: the person founds a new household or joins another, with a new 続柄."""

    kind: Literal["household_change"]
    household: str = Field("new", description='"new" or the household id to join')
    relationship: str = "世帯主"
    ex_officio: ExOfficioIn | None = Field(None, description=_EX_OFFICIO)


class HouseholdHeadChange(_OnResident):
    """世帯主変更: the clerk makes ``resident`` the head; every 続柄 is restated against them.

    Relations the records determine are restated by themselves; ``relationships``
    gives (or corrects) the others, by 住民票コード.  A household left without a
    head (世帯主不在) by a death or move-out waits for this event.
    """

    kind: Literal["household_head_change"]
    relationships: dict[str, str] = Field(
        default_factory=dict, description="続柄 to the new head, by 住民票コード"
    )


class HouseholdOrder(_OnResident):
    """世帯員の並び順: the clerk sets the order the household's members print in (5.2).

    ``order`` lists every member of ``resident``'s household, first to last.
    """

    kind: Literal["household_order"]
    order: list[str] = Field(description="住民票コード of every member, in print order")


class AliasSet(_OnResident):
    """通称の記載: a foreign resident's alias is written, and its history keeps the entry."""

    kind: Literal["alias_set"]
    alias: str = Field(min_length=1, max_length=60)


class AliasRemove(_OnResident):
    """通称の削除: the alias is struck; the history keeps both entries."""

    kind: Literal["alias_remove"]


class SexChange(_OnResident):
    """性別の取扱いの変更 (性同一性障害者特例法): the 性別 after the family court's decision."""

    kind: Literal["sex_change"]
    sex: Sex


class FormerSurname(_OnResident):
    """旧氏の記載 (a surname given) or 旧氏の削除 (none), at the person's request (1.1.7)."""

    kind: Literal["former_surname"]
    former_surname: str | None = Field(None, max_length=30)


class Correction(_OnResident):
    """誤記修正 (職権): a wrongly written item put right; the 統合記載欄 keeps both (4.2.3.3)."""

    kind: Literal["correction"]
    reason: str = Field(min_length=1, max_length=100)
    name: str | None = None
    kana: str | None = None
    birth_date: date | str | None = None
    sex: Sex | None = None


class CancelChange(_OnResident):
    """異動の取消し (jyuki-stnd 4.6): the person's newest change undone; both stay in the history.

    ``effective`` is the day of the cancellation.  ``members`` cancel their own
    newest change with it (a household's move, the 世帯主変更 a head's removal caused).
    """

    kind: Literal["cancellation"]
    version: int = Field(ge=1, description="the version to cancel (kofu show --json history)")
    reason: str = Field(min_length=1, max_length=100)
    members: list[str] = Field(
        default_factory=list, description="住民票コード of others whose newest change goes with it"
    )


class Marriage(_OnResident):
    """婚姻届: a new family register for the couple, headed by the one whose name they keep."""

    kind: Literal["marriage"]
    spouse: str = Field(description="住民票コード of the spouse, a resident of this city")
    family_name_of: Literal["resident", "spouse"] = "resident"
    domicile: str = Field(description="本籍 of the new register")


class Divorce(_OnResident):
    """離婚届: the spouse who is not the head leaves the register and takes back the old name."""

    kind: Literal["divorce"]


class Adoption(_OnResident):
    """養子縁組届: the adoptee joins the adopter's register (written with both parents' names)."""

    kind: Literal["adoption"]
    adopter: str


class SpecialAdoption(_OnResident):
    """特別養子縁組: the child joins the adopter's register as their own and their household as 子.

    The 統合記載欄 says 「特別養子縁組」 (jyuki-stnd 1.1.14).
    """

    kind: Literal["special_adoption"]
    adopter: str


class SpecialAdoptionDissolution(_OnResident):
    """特別養子縁組の解消 (民法817条の10): the child goes back to the birth family's household.

    The 統合記載欄 says 「特別養子縁組解消」, among the special history (jyuki-stnd 1.1.4);
    the family registers are put right by their own city.
    """

    kind: Literal["special_adoption_dissolution"]
    household: str = Field(description="the household the child joins (a birth parent's)")
    relationship: str = Field(description="続柄 to that household's head")
    name: str | None = Field(None, description="the name taken back; kept if absent")
    kana: str | None = None
    domicile: str | None = None
    domicile_head: str | None = None


class DomicileTransferOut(_OnResident):
    """転籍 out of the city: the whole register moves away and is closed here (除籍)."""

    kind: Literal["domicile_transfer_out"]
    new_domicile: str


class DomicileTransferIn(_OnResident):
    """転籍 into the city: the person's register is made anew here."""

    kind: Literal["domicile_transfer_in"]
    domicile: str


class SealRegister(_OnResident):
    """印鑑登録申請."""

    kind: Literal["seal_register"]
    impression: str | None = Field(
        None, description="characters on the seal; the surname if absent"
    )


class SealAbolish(_OnResident):
    """印鑑登録廃止申請."""

    kind: Literal["seal_abolish"]


MAX_YEN = 10**12  # 1兆円: past any person's income or tax, within every store and layout
Yen = Annotated[int, Field(ge=-MAX_YEN, le=MAX_YEN)]


class TaxAssessmentEvent(_OnResident):
    """課税決定: the fiscal year's assessment, made from the previous year's income."""

    kind: Literal["tax_assessment"]
    fiscal_year: int = Field(ge=2000, le=2100)
    incomes: dict[str, Yen] = Field(default_factory=dict)  # a loss is negative
    revenues: dict[str, Yen] = Field(default_factory=dict)
    deductions: dict[str, Yen] = Field(default_factory=dict)
    dependents: int = Field(0, ge=0, le=99)
    municipal_tax: int = Field(ge=0, le=MAX_YEN)
    prefectural_tax: int = Field(ge=0, le=MAX_YEN)


class SupportMeasureStart(_OnResident):
    """支援措置の開始 (or 仮支援措置 while the application is checked)."""

    kind: Literal["support_measure"]
    measure: str = Field("DV", description="DV, ストーカー, 児童虐待 or その他")
    provisional: bool = False
    applicant: str | None = Field(None, description="申出者 (住民票コード); the person if absent")
    joint: list[str] = Field(
        default_factory=list, description="併せて支援を求める者 (住民票コード), protected too"
    )
    offenders: list[Offender] = Field(default_factory=list, description="加害者")
    initial_city: str | None = Field(
        None, description="当初受付市区町村 of a provisional measure (仮支援措置) taken over"
    )
    end: date | None = Field(None, description="終了年月日; a year less a day if absent")


class SupportMeasureCorrect(_OnResident):
    """支援措置の終了年月日の修正."""

    kind: Literal["support_measure_correct"]
    end: date


class SupportMeasureOverride(_OnResident):
    """支援措置責任者の判断: after review, issuance at the counter for one requester, for a time."""

    kind: Literal["support_measure_override"]
    officer: str = Field(min_length=1, max_length=32, description="支援措置責任者's user id")
    requester: str | None = Field(
        None, description="住民票コード of whom the release serves; the protected person if absent"
    )
    until: str = Field(description="ISO-8601 instant when the measure applies again")


class SupportMeasureExtend(_OnResident):
    """支援措置の延長: possible from one month before the end; adds a year."""

    kind: Literal["support_measure_extend"]


class SupportMeasureEnd(_OnResident):
    """支援措置の終了."""

    kind: Literal["support_measure_end"]


class IssuanceBlockSet(_OnResident):
    """証明書発行の抑止 (j410): its end date does not lift it."""

    kind: Literal["issuance_block"]
    reason: str
    end: date | None = None
    level: Literal["error", "alert"] = "error"
    category: str = Field("その他", max_length=32, description="抑止の種類 (支援措置, 本人確認 …)")
    processes: list[Process] = Field(
        default_factory=lambda: list[Process](["証明"]),
        min_length=1,
        description="異動, 照会 and/or 証明",
    )
    household: bool = Field(False, description="block every member of the person's household")


class IssuanceBlockRelease(_OnResident):
    """抑止の解除: reaches the store path too."""

    kind: Literal["issuance_block_release"]
    block_id: str | None = Field(None, description="which block; the first one standing if absent")


class IssuanceBlockTemporaryRelease(_OnResident):
    """抑止の一時解除: the counter only, reverting by itself; never sent to the store path."""

    kind: Literal["issuance_block_temporary_release"]
    until: str = Field(description="ISO-8601 instant when the block returns")


class CertificateDisposal(_OnResident):
    """処分: a copy issued in error is destroyed; the issuance log says so (1.3.8)."""

    kind: Literal["certificate_disposal"]
    issue_number: int = Field(ge=1, description="発行番号 of the copy destroyed")
    reason: str = Field(min_length=1, max_length=200)


class SpecialMoveOut(_Event):
    """転出届の特例: a household's move-out whose data goes to the new city through Juki-net.

    No paper move-out certificate: each member gets a planned move-out (転出予定)
    notified today and the removal on the planned date, as a move_out does.
    """

    kind: Literal["special_move_out"]
    members: list[str] = Field(min_length=1, description="住民票コード of each moving member")
    destination: OtherAddress
    to_city: str = Field(description="the new city's local government code")
    move_out_id: str = Field(description="the id of the 転出証明書情報 sent to the new city")


class MovingMember(BaseModel):
    """One member of a household moving in by the special procedure, as the old city sent it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    resident: str
    individual_number: str
    name: str
    kana: str
    birth_date: date
    sex: Sex
    relationship: str
    domicile: str | None = None
    domicile_head: str | None = None


class SpecialMoveIn(_Event):
    """転入届の特例: a household registered from the 転出証明書情報 received through Juki-net.

    Members keep their resident codes and individual numbers; the first is the 世帯主.
    """

    kind: Literal["special_move_in"]
    members: list[MovingMember] = Field(min_length=1)
    address: NewAddress
    previous_address: OtherAddress
    from_city: str = Field(description="the old city's local government code")
    move_out_id: str = Field(description="the 転出証明書情報 the move-in was built from")


Event = Annotated[
    Birth
    | Death
    | MoveIn
    | MoveOut
    | MoveInNoticeReceived
    | MoveWithin
    | NameChange
    | HouseholdChange
    | HouseholdHeadChange
    | HouseholdOrder
    | AliasSet
    | AliasRemove
    | SexChange
    | FormerSurname
    | Correction
    | CancelChange
    | Marriage
    | Divorce
    | Adoption
    | SpecialAdoption
    | SpecialAdoptionDissolution
    | DomicileTransferOut
    | DomicileTransferIn
    | SealRegister
    | SealAbolish
    | TaxAssessmentEvent
    | SupportMeasureStart
    | SupportMeasureExtend
    | SupportMeasureEnd
    | SupportMeasureCorrect
    | SupportMeasureOverride
    | IssuanceBlockSet
    | IssuanceBlockRelease
    | IssuanceBlockTemporaryRelease
    | CertificateDisposal
    | SpecialMoveOut
    | SpecialMoveIn,
    Field(discriminator="kind"),
]
_EVENT = TypeAdapter(Event)
EVENT_KINDS: tuple[type[_Event], ...] = (
    Birth,
    Death,
    MoveIn,
    MoveOut,
    MoveInNoticeReceived,
    MoveWithin,
    NameChange,
    HouseholdChange,
    HouseholdHeadChange,
    HouseholdOrder,
    AliasSet,
    AliasRemove,
    SexChange,
    FormerSurname,
    Correction,
    CancelChange,
    Marriage,
    Divorce,
    Adoption,
    SpecialAdoption,
    SpecialAdoptionDissolution,
    DomicileTransferOut,
    DomicileTransferIn,
    SealRegister,
    SealAbolish,
    TaxAssessmentEvent,
    SupportMeasureStart,
    SupportMeasureExtend,
    SupportMeasureEnd,
    SupportMeasureCorrect,
    SupportMeasureOverride,
    IssuanceBlockSet,
    IssuanceBlockRelease,
    IssuanceBlockTemporaryRelease,
    CertificateDisposal,
    SpecialMoveOut,
    SpecialMoveIn,
)


def parse_event(data: Any) -> Event:
    """Validate one event object; the error names the field and what is wrong.

    No text of an event (names, kana, addresses, 本籍, 筆頭者, reasons) may
    carry a control or bidirectional-override character: it would be stored
    and printed on certificates as given (see ``kofu.core.text``).
    """
    unplain = first_unplain(data)
    if unplain is not None:
        where, bad = unplain
        raise InvalidInput(
            f"{where} may not contain control or bidirectional-override characters: {bad}",
            field=where,
        )
    try:
        return _EVENT.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        if loc and isinstance(data, dict) and loc[0] == data.get("kind"):
            loc = loc[1:]  # the discriminating tag is not a field
        where = ".".join(str(p) for p in loc) or "event"
        raise InvalidInput(f"{where}: {first['msg']}", field=where) from exc


def event_kinds() -> list[dict[str, Any]]:
    """Every event kind with its fields, for ``kofu event kinds --json``."""
    out = []
    for cls in EVENT_KINDS:
        schema = cls.model_json_schema()
        kind = schema["properties"]["kind"]["const"]
        fields = {
            name: {
                "required": name in schema.get("required", []),
                "description": prop.get("description", ""),
            }
            for name, prop in schema["properties"].items()
            if name != "kind"
        }
        out.append({"kind": kind, "description": (cls.__doc__ or "").strip(), "fields": fields})
    return out


class Change(BaseModel):
    """What one event changed, printed as one JSON line."""

    kind: str
    resident: str
    effective: date
    changed: dict[str, Any]
    alert: str | None = None  # what the clerk must do next (e.g. 世帯主不在 → 世帯主変更)


# --- applying -----------------------------------------------------------------------------


def _live(registers: Registers, resident_code: str) -> Resident:
    ResidentCode(resident_code)
    person = registers.resident(resident_code)
    if person is None:
        raise NotFound(f"no resident with code {resident_code}", field="resident")
    if not person.is_resident:
        raise Conflict(
            f"resident {resident_code} is a removed record (除票, {person.removal_reason}); "
            "no further events apply",
            field="resident",
        )
    return person


def _check_order(registers: Registers, resident_code: str, effective: date) -> None:
    history = registers.history(resident_code)
    if history and effective < history[-1].effective:
        raise Conflict(
            f"resident {resident_code} already has a change effective "
            f"{history[-1].effective.isoformat()}; events must come in time order",
            field="effective",
        )


def _diff(before: Resident | None, after: Resident) -> dict[str, Any]:
    old = before.model_dump(mode="json") if before else {}
    new = after.model_dump(mode="json")
    return {
        k: v for k, v in new.items() if old.get(k) != v and not (k in _OF_ONE_VERSION and v is None)
    }


# facts of the change that wrote a version, not of the record: the next version drops them
_OF_ONE_VERSION = ("ex_officio", "cancellation")


def _own_facts(before: Resident | None, after: Resident) -> Resident:
    """``after`` without the facts it only carried over from ``before``'s change."""
    if before is None:
        return after
    stale = {
        k: None
        for k in _OF_ONE_VERSION
        if getattr(after, k) is not None and getattr(after, k) == getattr(before, k)
    }
    return after.model_copy(update=stale) if stale else after


# what a move-out notified ahead (転出予定) writes on its future day
_MAY_BE_PLANNED = {"move_out", "household_head_change", "household_head_absent"}


def _write(
    registers: Registers, before: Resident | None, after: Resident, effective: date, kind: str
) -> Change:
    if effective > registers.today and kind not in _MAY_BE_PLANNED:
        raise InvalidInput(
            f"a {kind} cannot take effect after today ({registers.today.isoformat()})",
            field="effective",
        )
    if before is not None:
        _check_order(registers, after.resident_code, effective)
    after = _own_facts(before, after)
    registers.save_resident(after, effective=effective, kind=kind)
    return Change(
        kind=kind, resident=after.resident_code, effective=effective, changed=_diff(before, after)
    )


LATE_NOTIFICATION = timedelta(
    days=14
)  # 転出後14日を過ぎた転出届は職権で記載 (jyuki-stnd 4.1.3.0.1)
LATE_BASIS = "届出期間経過（転出後14日を過ぎた転出届）"


def _ex_officio(
    ev: MoveIn | MoveOut | MoveWithin | HouseholdChange, registers: Registers
) -> ExOfficio | None:
    """The 職権記載 facts of a change: given by the clerk, or a move-out notified too late.

    A 転出届 made more than 14 days after the move is no notification: the
    city writes the move-out ex officio (jyuki-stnd 4.1.3.0.1).
    """
    given = ev.ex_officio
    late = isinstance(ev, MoveOut) and ev.notified_on - ev.effective > LATE_NOTIFICATION
    if given is None and not late:
        return None
    if given is not None:
        for name, day in (("requested_on", given.requested_on), ("notice_on", given.notice_on)):
            if day is not None and day > registers.today:
                raise InvalidInput(
                    f"ex_officio.{name} is on or before today ({registers.today.isoformat()})",
                    field=f"ex_officio.{name}",
                )
        if given.notice_on is not None and given.notice_on < ev.effective:
            raise InvalidInput(
                "ex_officio.notice_on: the notice follows the change it tells of",
                field="ex_officio.notice_on",
            )
    return ExOfficio(
        basis=given.basis if given else LATE_BASIS,
        recorded_on=registers.today,
        late_notification_on=ev.notified_on if late else None,
        requested_on=given.requested_on if given else None,
        notice_on=given.notice_on if given else None,
    )


def _city_address(registers: Registers, city: CityProfile, new: NewAddress) -> Address:
    postal = registers.postal_code_for(new.town)
    if postal is None:
        raise InvalidInput(f"{new.town!r} is not a town of {city.name}", field="address.town")
    return Address(
        postal_code=postal,
        prefecture=city.prefecture,
        city=city.name,
        town=new.town,
        block=new.block,
        building=new.building,
    )


def _head_name(members: list[Resident]) -> str:
    head = next((m for m in members if m.relationship == "世帯主"), None)
    if head is None:
        raise Conflict("the household has no head (世帯主)", field="household")
    return head.name


def apply_event(event: Event, registers: Registers, city: CityProfile) -> list[Change]:
    """Apply one event to the registers; return what it changed."""
    handler: Callable[[Any, Registers, CityProfile], list[Change]] = _HANDLERS[type(event)]
    alert = None
    if isinstance(event, _OnResident):
        ResidentCode(event.resident)  # a mistyped code is malformed input, whatever the kind
        if not isinstance(event, _BLOCK_EVENTS):
            alert = _change_block(registers, event.resident, event.effective)
    changes = handler(event, registers, city)
    if alert is not None:
        changes = [c.model_copy(update={"alert": c.alert or alert}) for c in changes]
    return changes


def _change_block(registers: Registers, resident: str, day: date) -> str | None:
    """A block on 異動 stops the event (error) or lets it through with an alert (j410)."""
    blocks = registers.issuance_blocks(resident)
    stopping = next((b for b in blocks if b.blocks_on(day, "異動")), None)
    if stopping is not None:
        raise Refused(
            "change_blocked",
            f"changes to resident {resident} are blocked ({stopping.category}: {stopping.reason})",
            message_ja="この方の異動は抑止されています。",
        )
    warning = next((b for b in blocks if b.warns_on(day, "異動")), None)
    return f"抑止（アラート）: {warning.category}: {warning.reason}" if warning else None


def _birth(ev: Birth, reg: Registers, city: CityProfile) -> list[Change]:
    mother = _live(reg, ev.mother)
    if ev.father is not None and reg.resident(ResidentCode(ev.father)) is None:
        raise NotFound(f"no resident with code {ev.father} (father)", field="father")
    code = ResidentCode(ev.resident) if ev.resident else reg.new_resident_code()
    if reg.resident(code) is not None:
        raise Conflict(f"resident code {code} is already in use", field="resident")
    child = Resident(
        resident_code=code,
        individual_number=reg.new_individual_number(),
        name=f"{mother.family_name}　{ev.name}",
        kana=ev.kana,
        birth_date=ev.effective,
        sex=ev.sex,
        address=mother.address,
        household_id=mother.household_id,
        relationship=kinship.child_of(mother.relationship),
        household_head_name=mother.household_head_name,
        became_resident_on=ev.effective,
        address_set_on=ev.effective,
        notified_on=ev.notified_on,
        domicile=mother.domicile,
        domicile_head=mother.domicile_head,
        family_register_id=mother.family_register_id,
    )
    changes = [_write(reg, None, child, ev.effective, "birth")]
    family_rules.record_birth(reg, child, mother, ev.father, ev.effective)
    return changes


def _remove(
    person: Resident, reason: RemovalReason, ev: _Event, destination: Address | None = None
) -> Resident:
    status = (
        ResidentStatus.DECEASED if reason is RemovalReason.DECEASED else ResidentStatus.MOVED_OUT
    )
    return person.model_copy(
        update={
            "status": status,
            "removed_on": ev.effective,
            "removal_reason": reason,
            "removal_notified_on": ev.notified_on,
            "move_out_destination": destination,
        }
    )


def _death(ev: Death, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    changes = [
        _write(reg, person, _remove(person, RemovalReason.DECEASED, ev), ev.effective, "death")
    ]
    changes += _rehead(reg, person, ev)
    family_rules.record_death(reg, person, ev.effective)
    _end_seal(reg, person.resident_code, ev.effective)
    return changes


def _rehead(
    reg: Registers, gone: Resident, ev: _Event, leaving: frozenset[str] = frozenset()
) -> list[Change]:
    """The head left: one member left becomes head by 職権; two or more wait without one.

    jyuki-stnd 4.0.4: with a single member left the city makes them 世帯主;
    with more, the household has no head (世帯主不在) and the clerk is alerted
    to decide the new head with a ``household_head_change``.
    """
    if gone.relationship != kinship.HEAD:
        return []
    away = leaving | {gone.resident_code}  # members who leave with the head (特例転出 of several)
    rest = [m for m in reg.household(gone.household_id) if m.resident_code not in away]
    if not rest:
        return []
    if len(rest) == 1:
        only = rest[0]
        updated = only.model_copy(
            update={"relationship": kinship.HEAD, "household_head_name": only.name}
        )
        return [_write(reg, only, updated, ev.effective, "household_head_change")]
    changes = []
    alert = (
        f"世帯主不在: household {gone.household_id} has no head; "
        "decide one with a household_head_change (世帯主変更)"
    )
    for member in rest:
        updated = member.model_copy(
            update={"household_head_name": "", "former_head": gone.resident_code}
        )
        change = _write(reg, member, updated, ev.effective, "household_head_absent")
        changes.append(change.model_copy(update={"alert": alert}))
    return changes


def _head_change(ev: HouseholdHeadChange, reg: Registers, city: CityProfile) -> list[Change]:
    new_head = _live(reg, ev.resident)
    if ev.effective > reg.today:
        raise InvalidInput(
            f"a household_head_change cannot take effect after today ({reg.today.isoformat()})",
            field="effective",
        )
    members = list(reg.household(new_head.household_id))
    if new_head.relationship == kinship.HEAD:
        raise Conflict(f"resident {new_head.resident_code} is already the head", field="resident")
    codes = {m.resident_code for m in members}
    for code, relationship in ev.relationships.items():
        if code not in codes or code == new_head.resident_code:
            raise InvalidInput(
                f"{code} is not another member of household {new_head.household_id}",
                field="relationships",
            )
        _check_relationship(relationship, f"relationships.{code}")
    old_head = _recorded_head(reg, members, new_head)
    restated = {}
    for m in members:
        if m.resident_code == new_head.resident_code:
            continue
        given = ev.relationships.get(m.resident_code)
        restated[m.resident_code] = given or kinship.restate(old_head, new_head, m)
    unsure = sorted(code for code, rel in restated.items() if rel is None)
    if unsure:
        raise InvalidInput(
            f"the 続柄 of {', '.join(unsure)} to the new head cannot be derived from the "
            "records; give it in relationships",
            field="relationships",
        )
    changes = []
    for m in members:
        updated = m.model_copy(
            update={
                "relationship": restated.get(m.resident_code, kinship.HEAD),
                "household_head_name": new_head.name,
                "former_head": None,
            }
        )
        changes.append(_write(reg, m, updated, ev.effective, "household_head_change"))
    return changes


def _household_order(ev: HouseholdOrder, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    members = {m.resident_code: m for m in reg.household(person.household_id)}
    if sorted(ev.order) != sorted(members) or len(set(ev.order)) != len(ev.order):
        raise InvalidInput(
            f"order must list every member of household {person.household_id} once: "
            f"{', '.join(sorted(members))}",
            field="order",
        )
    changes = []
    for position, code in enumerate(ev.order, start=1):
        member = members[code]
        if member.household_position != position:
            updated = member.model_copy(update={"household_position": position})
            changes.append(_write(reg, member, updated, ev.effective, "household_order"))
    return changes


def _foreigner(reg: Registers, code: str) -> tuple[Resident, ForeignResidency]:
    person = _live(reg, code)
    if person.foreign is None:
        raise InvalidInput(
            "an alias (通称) is written only for a foreign resident", field="resident"
        )
    return person, person.foreign


def _alias_set(ev: AliasSet, reg: Registers, city: CityProfile) -> list[Change]:
    person, foreign = _foreigner(reg, ev.resident)
    if foreign.alias is not None:
        raise Conflict(
            f"resident {ev.resident} already has the alias {foreign.alias}", field="alias"
        )
    entry = AliasEntry(action="記載", alias=ev.alias, on=ev.effective, city=city.name)
    updated = foreign.model_copy(
        update={"alias": ev.alias, "alias_history": (*foreign.alias_history, entry)}
    )
    after = person.model_copy(update={"foreign": updated})
    return [_write(reg, person, after, ev.effective, "alias_set")]


def _alias_remove(ev: AliasRemove, reg: Registers, city: CityProfile) -> list[Change]:
    person, foreign = _foreigner(reg, ev.resident)
    if foreign.alias is None:
        raise Conflict(f"resident {ev.resident} has no alias to remove", field="resident")
    entry = AliasEntry(action="削除", alias=foreign.alias, on=ev.effective, city=city.name)
    updated = foreign.model_copy(
        update={"alias": None, "alias_history": (*foreign.alias_history, entry)}
    )
    after = person.model_copy(update={"foreign": updated})
    return [_write(reg, person, after, ev.effective, "alias_remove")]


def _sex_change(ev: SexChange, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    if person.sex is ev.sex:
        raise Conflict(f"resident {ev.resident} is already recorded as {ev.sex.ja}", field="sex")
    relationship = _relation_for_sex(reg, person)
    after = person.model_copy(update={"sex": ev.sex, "relationship": relationship})
    return [_write(reg, person, after, ev.effective, "sex_change")]


_OTHER_SEX = {"兄": "姉", "姉": "兄", "弟": "妹", "妹": "弟", "父": "母", "母": "父"}
_SPOUSES = ("夫", "妻", "夫（未届）", "妻（未届）")


def _relation_for_sex(reg: Registers, person: Resident) -> str:
    """The 続柄 after a change of 性別: 弟 becomes 妹, 父 母 and so on (1.1.11).

    Only an unmarried person's 性別 is changed (性同一性障害者特例法3条1項2号):
    a spouse, or a head with a spouse in the household, is refused.
    """
    terms = person.relationship.split("の")
    spouse_of_head = person.relationship == kinship.HEAD and any(
        m.relationship in _SPOUSES for m in reg.household(person.household_id)
    )
    if terms[-1] in _SPOUSES or spouse_of_head:
        raise Conflict(
            "the 性別 of a married person is not changed (性同一性障害者特例法3条1項2号)",
            field="resident",
        )
    terms[-1] = _OTHER_SEX.get(terms[-1], terms[-1])
    return "の".join(terms)


def _former_surname(ev: FormerSurname, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    if person.foreign is not None:
        raise InvalidInput("a foreign resident has a 通称, not a 旧氏", field="former_surname")
    if ev.former_surname is None and person.former_surname is None:
        raise Conflict(f"resident {ev.resident} has no 旧氏 to remove", field="former_surname")
    after = person.model_copy(update={"former_surname": ev.former_surname})
    kind = "former_surname_set" if ev.former_surname else "former_surname_remove"
    return [_write(reg, person, after, ev.effective, kind)]


def _correction(ev: Correction, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    update: dict[str, Any] = {}
    if ev.name is not None:
        if "　" not in ev.name:
            raise InvalidInput(
                "a name separates family and given name with a full-width space", field="name"
            )
        update["name"] = ev.name
    if ev.kana is not None:
        update["kana"] = ev.kana
    if ev.birth_date is not None:
        born = _entered(ev.birth_date)
        update |= {
            "birth_date": born.day,
            "birth_date_precision": born.precision,
            "birth_date_era": born.era,
        }
    if ev.sex is not None:
        update["sex"] = ev.sex
    after = person.model_copy(update=update)
    if after == person:
        raise InvalidInput("a correction must change at least one item", field="correction")
    return [_write(reg, person, after, ev.effective, "correction")]


def _cancel(ev: CancelChange, reg: Registers, city: CityProfile) -> list[Change]:
    """Each person's record back as before their newest change, as a new version (4.6.0.1)."""
    if ev.effective > reg.today:
        raise InvalidInput(
            f"a cancellation cannot take effect after today ({reg.today.isoformat()})",
            field="effective",
        )
    restored = [
        cancellation_rules.cancel_newest(reg, ev.resident, ev.version, ev.effective, ev.reason)
    ]
    for code in dict.fromkeys(ev.members):
        if code == ev.resident:
            continue
        newest = reg.history(ResidentCode(code))
        if not newest:
            raise NotFound(f"no resident with code {code}", field="members")
        _change_block(reg, code, ev.effective)  # a member's 異動 block holds here too
        restored.append(
            cancellation_rules.cancel_newest(reg, code, newest[-1].version, ev.effective, ev.reason)
        )
    changes = []
    for r in restored:
        reg.save_resident(r.after, effective=r.effective, kind="cancellation")
        changes.append(
            Change(
                kind="cancellation",
                resident=r.after.resident_code,
                effective=r.effective,
                changed=_diff(r.before, r.after),
            )
        )
    cancellation_rules.check_households(reg, restored)
    return changes


def _recorded_head(reg: Registers, members: list[Resident], new_head: Resident) -> Resident:
    """The head the members' relations are written against: present, or the one who left."""
    present = next((m for m in members if m.relationship == kinship.HEAD), None)
    if present is not None:
        return present
    former = reg.resident(new_head.former_head) if new_head.former_head else None
    if former is None:
        raise Conflict("the household's former head is not on record", field="resident")
    return former


def _entered(raw: date | str) -> EnteredDate:
    """A date of birth as the clerk entered it; the error names the field."""
    try:
        return parse_entered_date(raw.isoformat() if isinstance(raw, date) else raw)
    except InvalidInput as exc:
        raise InvalidInput(f"birth_date: {exc.message}", field="birth_date") from exc


def _check_relationship(relationship: str, where: str) -> None:
    """Only the relations the standard lists (1.1.11): 子の子, never 孫."""
    if not kinship.is_valid_relationship(relationship):
        raise InvalidInput(
            f"{where}: {relationship!r} is not a 続柄 the standard allows; use 世帯主, 夫, 妻, "
            "夫（未届）, 妻（未届）, 子, 子の夫, 子の妻, 父, 母, 兄, 姉, 弟, 妹, up to four of "
            "them joined with の (子の子), 縁故者 or 同居人",
            field=where,
        )


def _end_seal(reg: Registers, resident_code: str, on: date) -> None:
    seal = reg.seal(resident_code)
    if seal is not None and seal.abolished_on is None:
        reg.save_seal(seal.model_copy(update={"abolished_on": on, "abolished_by": "removal"}))


def _former_resident(reg: Registers, ev: MoveIn) -> Resident | None:
    """One who moved away and comes back (再転入, jyuki-stnd 4.1.1.2): by code or number.

    The 除票 is taken up again: the same 住民票コード and 個人番号, the history
    going on.  A code or number of a current resident or of the dead is refused.
    """
    found = None
    if ev.resident:
        by_code = reg.resident(ResidentCode(ev.resident))
        if by_code is not None and by_code.status is not ResidentStatus.MOVED_OUT:
            raise Conflict(f"resident code {ev.resident} is already in use", field="resident")
        found = by_code
    if ev.individual_number:
        number = IndividualNumber(ev.individual_number)
        by_number = reg.resident_by_number(number)
        if by_number is not None and by_number.status is not ResidentStatus.MOVED_OUT:
            raise Conflict(
                f"individual number {number} is already in use", field="individual_number"
            )
        if found is not None and by_number is not None and found != by_number:
            raise Conflict(
                "the resident code and the individual number are of two different people",
                field="individual_number",
            )
        found = found or by_number
    return found


def _move_in(ev: MoveIn, reg: Registers, city: CityProfile) -> list[Change]:
    former = _former_resident(reg, ev)
    code = former.resident_code if former else (ev.resident or reg.new_resident_code())
    code = ResidentCode(code)
    number = (
        IndividualNumber(former.individual_number)
        if former
        else IndividualNumber(ev.individual_number)
        if ev.individual_number
        else None
    )
    if ev.foreign is None and not ev.domicile:
        raise InvalidInput("a Japanese national's record needs a domicile (本籍)", field="domicile")
    _check_relationship(ev.relationship, "relationship")
    if ev.from_city is not None:  # a 転入通知 goes back to it, naming the person by code
        if _city_code(ev.from_city, "from_city") == city.code:
            raise InvalidInput("from_city is another city than this one", field="from_city")
        if ev.resident is None:
            raise InvalidInput(
                "a move-in from_city keeps the 住民票コード of the 転出証明書", field="resident"
            )
    born = _entered(ev.birth_date)
    address = _city_address(reg, city, ev.address)
    if ev.household == "new":
        if ev.relationship != "世帯主":
            raise InvalidInput(
                "the first member of a new household is its 世帯主", field="relationship"
            )
        household_id, head_name = reg.new_household_id(), ev.name
    else:
        members = list(reg.household(ev.household))
        if not members:
            raise NotFound(f"no household {ev.household}", field="household")
        household_id, head_name = ev.household, _head_name(members)
        address = members[0].address
    person = Resident(
        resident_code=code,
        individual_number=number or reg.new_individual_number(),
        name=ev.name,
        kana=ev.kana,
        birth_date=born.day,
        birth_date_precision=born.precision,
        birth_date_era=born.era,
        sex=ev.sex,
        address=address,
        household_id=household_id,
        relationship=ev.relationship,
        household_head_name=head_name,
        became_resident_on=ev.effective,
        address_set_on=ev.effective,
        notified_on=ev.notified_on,
        previous_address=ev.previous_address.to_address(),
        domicile=ev.domicile,
        domicile_head=ev.domicile_head,
        foreign=_arriving(ev.foreign, ev.effective, city),
        family_register_id=former.family_register_id if former else None,
        ex_officio=_ex_officio(ev, reg),
        adoption_move=ev.adoption,
    )
    return [_write(reg, former, person, ev.effective, "move_in")]


def _arriving(
    foreign: ForeignResidency | None, on: date, city: CityProfile
) -> ForeignResidency | None:
    """A foreign resident's alias given at move-in is written here, unless its history came too."""
    if foreign is None or foreign.alias is None or foreign.alias_history:
        return foreign
    entry = AliasEntry(action="記載", alias=foreign.alias, on=on, city=city.name)
    return foreign.model_copy(update={"alias_history": (entry,)})


def _move_out(ev: MoveOut, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    destination = ev.destination.to_address()
    if destination.city == city.name and destination.prefecture == city.prefecture:
        raise InvalidInput(
            "a move within the city is a move_within, not a move_out", field="destination"
        )
    _check_not_left_by_head(reg, person.resident_code, ev.notified_on)
    ex_officio = _ex_officio(ev, reg)
    if ev.ex_officio is not None and (ev.notified_on < ev.effective or ev.effective > reg.today):
        raise InvalidInput(
            "an ex-officio move-out writes a move already made: no planned date",
            field="effective",
        )
    changes = []
    if ev.notified_on < ev.effective:
        planned = person.model_copy(
            update={
                "planned_move_out": PlannedMoveOut(
                    planned_on=ev.effective, notified_on=ev.notified_on, destination=destination
                ),
                "adoption_move": ev.adoption,
            }
        )
        changes.append(_write(reg, person, planned, ev.notified_on, "move_out_planned"))
        person = planned
    removed = _remove(person, RemovalReason.MOVED_OUT, ev, destination)
    removed = removed.model_copy(update={"ex_officio": ex_officio, "adoption_move": ev.adoption})
    changes.append(_write(reg, person, removed, ev.effective, "move_out"))
    _keep_measure_as_former_address(reg, person.resident_code, ev.effective)
    changes += _rehead(reg, person, ev, _gone_by(reg, person.household_id, ev.effective))
    _end_seal(reg, person.resident_code, ev.effective)
    return changes


def _city_code(text: str, field: str) -> str:
    try:
        return str(LocalGovernmentCode(text))
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.message}", field=field) from exc


def _move_in_notice(ev: MoveInNoticeReceived, reg: Registers, city: CityProfile) -> list[Change]:
    """予定 → 確定: the confirmed day and address kept beside the planned ones (j680).

    A record still waiting for its planned day becomes a 除票 now, the person
    having moved in elsewhere; its 異動日 stays the planned one.  A notice for
    a record removed ex officio (職権消除) is taken in as well.
    """
    person = reg.resident(ResidentCode(ev.resident))
    if person is None:
        raise NotFound(f"no resident with code {ev.resident}", field="resident")
    moved = person.removal_reason in (RemovalReason.MOVED_OUT, RemovalReason.EX_OFFICIO)
    if not moved and (person.removal_reason is not None or person.planned_move_out is None):
        raise Conflict(
            f"resident {ev.resident} has no move-out (転出届) for a 転入通知 to confirm",
            field="resident",
        )
    if ev.moved_on > ev.effective:
        raise InvalidInput("moved_on is on or before the day of the notice", field="moved_on")
    destination = ev.destination.to_address()
    if destination.city == city.name and destination.prefecture == city.prefecture:
        raise InvalidInput("a 転入通知 comes from another city", field="destination")
    if ev.from_city is not None:
        _city_code(ev.from_city, "from_city")
    confirmed = ConfirmedMoveOut(
        moved_on=ev.moved_on,
        destination=destination,
        notice_on=ev.effective,
        from_city=ev.from_city,
        notice_id=ev.notice_id,
    )
    done = person.confirmed_move_out
    if done is not None and ev.notice_id is not None and done.notice_id == ev.notice_id:
        return []  # the same notice again: nothing changes
    after = person.model_copy(update={"confirmed_move_out": confirmed})
    if person.is_resident:  # moved in elsewhere before the planned day
        planned = person.planned_move_out
        assert planned is not None
        removed = _remove(person, RemovalReason.MOVED_OUT, ev, planned.destination)
        after = removed.model_copy(
            update={
                "confirmed_move_out": confirmed,
                "removed_on": planned.planned_on,
                "removal_notified_on": planned.notified_on,
            }
        )
    if ev.effective > reg.today:
        raise InvalidInput(
            f"a move_in_notice cannot be taken in after today ({reg.today.isoformat()})",
            field="effective",
        )
    after = _own_facts(person, after)
    # Written after any planned version still to come: from today it is the record.
    reg.save_resident(after, effective=ev.effective, kind="move_out_confirmed")
    return [
        Change(
            kind="move_out_confirmed",
            resident=person.resident_code,
            effective=ev.effective,
            changed=_diff(person, after),
        )
    ]


def _check_not_left_by_head(reg: Registers, code: str, day: date) -> None:
    """A member the head's planned move-out already left behind cannot be moved before it.

    The head's move-out wrote this member's 世帯主変更 (or 世帯主不在) on its
    day; a move-out of theirs notified earlier would come before it.
    """
    later = [v for v in reg.history(code) if v.effective > day]
    if later and later[-1].kind in ("household_head_change", "household_head_absent"):
        raise Conflict(
            f"the head's move-out on {later[-1].effective.isoformat()} already left resident "
            f"{code} behind; enter the move-outs of those who leave with the head before "
            "the head's own",
            field="resident",
        )


def _gone_by(reg: Registers, household_id: str, day: date) -> frozenset[str]:
    """Members whose own move-out, notified ahead, takes them away by ``day``.

    They leave with the head, so none of them is made head (or left without
    one) on the day they are removed.
    """
    return frozenset(
        m.resident_code
        for m in reg.household(household_id)
        if m.planned_move_out is not None and m.planned_move_out.planned_on <= day
    )


def _keep_measure_as_former_address(reg: Registers, code: str, on: date) -> None:
    """A protected person moving out stays protected here as the former address (前住所地).

    The measure becomes a 仮支援措置 on the basis of the former address, so it
    does not lapse while the new city takes it over (jyuki-stnd 3.4).
    """
    measure = _active_measure(reg, code, on)
    if measure is not None:
        reg.save_support_measure(
            measure.model_copy(update={"provisional": True, "basis": "前住所地"})
        )


def _move_within(ev: MoveWithin, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    address = _city_address(reg, city, ev.address)
    movers = list(reg.household(person.household_id)) if ev.whole_household else [person]
    ex_officio = _ex_officio(ev, reg)
    changes = []
    for mover in movers:
        moved = mover.model_copy(
            update={
                "address": address,
                "prior_address": mover.address,
                "address_set_on": ev.effective,
                "notified_on": ev.notified_on,
                "ex_officio": ex_officio,
            }
        )
        changes.append(_write(reg, mover, moved, ev.effective, "move_within"))
        family_rules.record_address(reg, moved, ev.effective)
    return changes


def _name_change(ev: NameChange, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    return _rename(reg, person, ev.name, ev.kana, ev.effective, "name_change")


def _rename(
    reg: Registers, person: Resident, name: str, kana: str, effective: date, kind: str
) -> list[Change]:
    if "　" not in name:
        raise InvalidInput(
            "a name separates family and given name with a full-width space", field="name"
        )
    update: dict[str, Any] = {
        "name": name,
        "kana": kana,
        "name_history": (*person.name_history, person.name),
    }
    if person.relationship == "世帯主":
        update["household_head_name"] = name
    renamed = person.model_copy(update=update)
    changes = [_write(reg, person, renamed, effective, kind)]
    if person.relationship == "世帯主":
        for member in reg.household(person.household_id):
            if member.resident_code != person.resident_code:
                updated = member.model_copy(update={"household_head_name": name})
                changes.append(_write(reg, member, updated, effective, "household_head_change"))
    return changes


def _household_change(ev: HouseholdChange, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    _check_relationship(ev.relationship, "relationship")
    if ev.household == "new":
        if ev.relationship != "世帯主":
            raise InvalidInput("a new household's only member is its 世帯主", field="relationship")
        household_id, head_name = reg.new_household_id(), person.name
    else:
        members = [
            m for m in reg.household(ev.household) if m.resident_code != person.resident_code
        ]
        if not members:
            raise NotFound(f"no household {ev.household}", field="household")
        if ev.relationship == "世帯主":
            raise InvalidInput("the household already has a 世帯主", field="relationship")
        household_id, head_name = ev.household, _head_name(members)
    ex_officio = _ex_officio(ev, reg)
    changes = _rehead(reg, person, ev)
    moved = person.model_copy(
        update={
            "household_id": household_id,
            "relationship": ev.relationship,
            "household_head_name": head_name,
            "household_position": None,  # one who joins is written last (5.2)
            "former_head": None,
            "ex_officio": ex_officio,
        }
    )
    changes.insert(0, _write(reg, person, moved, ev.effective, "household_change"))
    return changes


def _marriage(ev: Marriage, reg: Registers, city: CityProfile) -> list[Change]:
    person, spouse = _live(reg, ev.resident), _live(reg, ev.spouse)
    if person.resident_code == spouse.resident_code:
        raise InvalidInput("a person cannot marry themselves", field="spouse")
    head, other = (person, spouse) if ev.family_name_of == "resident" else (spouse, person)
    register_id = family_rules.record_marriage(reg, head, other, ev.domicile, ev.effective)
    changes: list[Change] = []
    new_name = f"{head.family_name}　{other.name.split('　', 1)[1]}"
    if new_name != other.name:
        kana = (
            f"{head.kana.split('　', 1)[0]}　{other.kana.split('　', 1)[1]}"
            if "　" in head.kana and "　" in other.kana
            else other.kana
        )
        changes += _rename(reg, other, new_name, kana, ev.effective, "marriage")
        other = reg.resident(other.resident_code) or other
    for member in (head, other):
        current = reg.resident(member.resident_code) or member
        updated = current.model_copy(
            update={
                "domicile": ev.domicile,
                "domicile_head": head.name,
                "family_register_id": register_id,
            }
        )
        changes.append(_write(reg, current, updated, ev.effective, "marriage"))
    return changes


def _divorce(ev: Divorce, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    previous_name, register_id = family_rules.record_divorce(reg, person, ev.effective)
    changes: list[Change] = []
    if previous_name and previous_name != person.name:
        kana = next(
            (
                v.record.kana
                for v in reversed(reg.history(person.resident_code))
                if v.record.name == previous_name
            ),
            person.kana,
        )
        changes += _rename(reg, person, previous_name, kana, ev.effective, "divorce")
        person = reg.resident(person.resident_code) or person
    updated = person.model_copy(
        update={"domicile_head": person.name, "family_register_id": register_id}
    )
    changes.append(_write(reg, person, updated, ev.effective, "divorce"))
    return changes


def _adoption(ev: Adoption, reg: Registers, city: CityProfile) -> list[Change]:
    person, adopter = _live(reg, ev.resident), _live(reg, ev.adopter)
    if adopter.birth_date >= person.birth_date:
        raise InvalidInput("an adopter must be older than the adoptee (民法793条)", field="adopter")
    family_rules.record_adoption(reg, person, adopter, ev.effective)
    updated = person.model_copy(
        update={
            "domicile": adopter.domicile,
            "domicile_head": adopter.domicile_head,
            "family_register_id": adopter.family_register_id,
        }
    )
    return [_write(reg, person, updated, ev.effective, "adoption")]


def _special_adoption(ev: SpecialAdoption, reg: Registers, city: CityProfile) -> list[Change]:
    person, adopter = _live(reg, ev.resident), _live(reg, ev.adopter)
    if person.age_on(ev.effective) >= 15 or adopter.age_on(ev.effective) < 20:
        raise InvalidInput(
            "a 特別養子 is under 15 and the adopter at least 20 (民法817条の4, 817条の5)",
            field="resident",
        )
    renamed = person.model_copy(update=_adopters_name(person, adopter))
    family_rules.record_adoption(reg, renamed, adopter, ev.effective, special=True)
    relation = kinship.child_of(adopter.relationship)
    changes = _rehead(reg, person, ev) if person.household_id != adopter.household_id else []
    updated = renamed.model_copy(
        update={
            "domicile": adopter.domicile,
            "domicile_head": adopter.domicile_head,
            "family_register_id": adopter.family_register_id,
            "household_id": adopter.household_id,
            "relationship": relation,
            "household_head_name": adopter.household_head_name,
            "household_position": None,
            "address": adopter.address,
        }
    )
    return [_write(reg, person, updated, ev.effective, "special_adoption"), *changes]


def _dissolve_special_adoption(
    ev: SpecialAdoptionDissolution, reg: Registers, city: CityProfile
) -> list[Change]:
    """Back to the birth family's household, 続柄 and (if given) name; the 縁組 was written."""
    person = _live(reg, ev.resident)
    if not any(v.kind == "special_adoption" for v in reg.history(person.resident_code)):
        raise Conflict(
            f"resident {ev.resident} has no 特別養子縁組 on record to dissolve", field="resident"
        )
    _check_relationship(ev.relationship, "relationship")
    if ev.relationship == kinship.HEAD:
        raise InvalidInput("the child joins a household that has its head", field="relationship")
    members = [m for m in reg.household(ev.household) if m.resident_code != person.resident_code]
    if not members or ev.household == person.household_id:
        raise NotFound(f"no other household {ev.household}", field="household")
    update: dict[str, Any] = {
        "household_id": ev.household,
        "relationship": ev.relationship,
        "household_head_name": _head_name(members),
        "household_position": None,
        "address": members[0].address,
        "former_head": None,
        "domicile": ev.domicile or person.domicile,
        "domicile_head": ev.domicile_head or person.domicile_head,
        "family_register_id": None,  # the register kept here no longer holds the child
    }
    if ev.name is not None:
        if "　" not in ev.name:
            raise InvalidInput(
                "a name separates family and given name with a full-width space", field="name"
            )
        update |= {
            "name": ev.name,
            "kana": ev.kana or person.kana,
            "name_history": (*person.name_history, person.name),
        }
    changes = _rehead(reg, person, ev)
    after = person.model_copy(update=update)
    return [_write(reg, person, after, ev.effective, "special_adoption_dissolution"), *changes]


def _adopters_name(child: Resident, adopter: Resident) -> dict[str, Any]:
    """A 特別養子 takes the adopter's 氏 (民法810条); the name before is kept, never printed."""
    if child.family_name == adopter.family_name:
        return {}
    given, given_kana = child.name.split("　", 1)[-1], child.kana.split("　", 1)[-1]
    kana = f"{adopter.kana.split('　', 1)[0]}　{given_kana}" if "　" in adopter.kana else child.kana
    return {
        "name": f"{adopter.family_name}　{given}",
        "kana": kana,
        "name_history": (*child.name_history, child.name),
    }


def _transfer_out(ev: DomicileTransferOut, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    members = family_rules.record_transfer_out(reg, person, ev.new_domicile, ev.effective)
    changes = []
    for code in members:
        member = reg.resident(code)
        if member is not None and member.is_resident:
            updated = member.model_copy(
                update={"domicile": ev.new_domicile, "family_register_id": None}
            )
            changes.append(_write(reg, member, updated, ev.effective, "domicile_transfer_out"))
    return changes


def _transfer_in(ev: DomicileTransferIn, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    register_id = family_rules.record_transfer_in(reg, person, ev.domicile, ev.effective)
    updated = person.model_copy(
        update={
            "domicile": ev.domicile,
            "domicile_head": person.name,
            "family_register_id": register_id,
        }
    )
    return [_write(reg, person, updated, ev.effective, "domicile_transfer_in")]


def _side(kind: str, resident: str, effective: date, **changed: Any) -> list[Change]:
    return [Change(kind=kind, resident=resident, effective=effective, changed=changed)]


def _seal_register(ev: SealRegister, reg: Registers, city: CityProfile) -> list[Change]:
    person = _live(reg, ev.resident)
    if person.age_on(ev.effective) < 15:
        raise InvalidInput(
            "a seal can be registered from age 15 (印鑑登録事務処理要領)", field="resident"
        )
    current = reg.seal(person.resident_code)
    if current is not None and current.active_on(ev.effective):
        raise Conflict(
            f"resident {person.resident_code} already has seal {current.registration_number}",
            field="resident",
        )
    seal = SealRegistration(
        registration_number=reg.new_seal_number(),
        resident_code=person.resident_code,
        registered_on=ev.effective,
        impression=ev.impression or person.family_name,
    )
    reg.save_seal(seal)
    return _side(
        "seal_register", person.resident_code, ev.effective, seal=seal.model_dump(mode="json")
    )


def _seal_abolish(ev: SealAbolish, reg: Registers, city: CityProfile) -> list[Change]:
    seal = reg.seal(ev.resident)
    if seal is None or not seal.active_on(ev.effective):
        raise Conflict(f"resident {ev.resident} has no registered seal", field="resident")
    reg.save_seal(seal.model_copy(update={"abolished_on": ev.effective, "abolished_by": "owner"}))
    return _side("seal_abolish", ev.resident, ev.effective, abolished_on=ev.effective.isoformat())


def _tax(ev: TaxAssessmentEvent, reg: Registers, city: CityProfile) -> list[Change]:
    person = reg.resident(ResidentCode(ev.resident))
    if person is None:
        raise NotFound(f"no resident with code {ev.resident}", field="resident")
    for label, table in (("incomes", ev.incomes), ("deductions", ev.deductions)):
        if any(v < 0 for v in table.values()):
            raise InvalidInput(f"{label} cannot be negative", field=label)
    assessment = TaxAssessment(
        resident_code=person.resident_code,
        fiscal_year=ev.fiscal_year,
        incomes=ev.incomes,
        revenues=ev.revenues,
        deductions=ev.deductions,
        dependents=ev.dependents,
        municipal_tax=ev.municipal_tax,
        prefectural_tax=ev.prefectural_tax,
        assessed_on=ev.effective,
    )
    reg.save_tax(assessment)
    return _side("tax_assessment", person.resident_code, ev.effective, fiscal_year=ev.fiscal_year)


def _active_measure(reg: Registers, resident: str, day: date) -> SupportMeasure | None:
    return next((m for m in reg.support_measures(resident) if m.active_on(day)), None)


def _support_start(ev: SupportMeasureStart, reg: Registers, city: CityProfile) -> list[Change]:
    person = reg.resident(ResidentCode(ev.resident))
    if person is None:
        raise NotFound(f"no resident with code {ev.resident}", field="resident")
    if ev.initial_city is not None and not ev.provisional:
        raise InvalidInput("initial_city goes with a provisional measure", field="initial_city")
    end = ev.end or measure_end(ev.effective)
    if end < ev.effective:
        raise InvalidInput("a measure cannot end before it starts", field="end")
    for code in [ev.resident, *ev.joint]:
        if reg.resident(ResidentCode(code)) is None:
            raise NotFound(f"no resident with code {code}", field="joint")
        if _active_measure(reg, code, ev.effective) is not None:
            raise Conflict(
                f"resident {code} already has an active support measure", field="resident"
            )
    measure = SupportMeasure(
        measure_id=f"SM-{ev.resident}-{ev.effective:%Y%m%d}",
        resident_code=ev.resident,
        kind=ev.measure,
        start=ev.effective,
        end=end,
        provisional=ev.provisional,
        applicant=ev.applicant or ev.resident,
        joint_with=tuple(ev.joint),
        offenders=tuple(ev.offenders),
        initial_city=ev.initial_city,
    )
    reg.save_support_measure(measure)
    for code in ev.joint:  # each joint person carries a measure of their own, tied to this one
        reg.save_support_measure(
            measure.model_copy(
                update={
                    "measure_id": f"SM-{code}-{ev.effective:%Y%m%d}",
                    "resident_code": code,
                    "joint_with": (),
                    "joint_of": ev.resident,
                }
            )
        )
    joint = {"joint": list(ev.joint)} if ev.joint else {}
    return _side("support_measure", ev.resident, ev.effective, end=end.isoformat(), **joint)


def _measures_of(reg: Registers, measure: SupportMeasure) -> list[SupportMeasure]:
    """A measure and those of the persons it covers jointly: changed together."""
    out = [measure]
    for code in measure.joint_with:
        out += [m for m in reg.support_measures(code) if m.joint_of == measure.resident_code]
    return out


def _support_correct(ev: SupportMeasureCorrect, reg: Registers, city: CityProfile) -> list[Change]:
    measure = _active_measure(reg, ev.resident, ev.effective)
    if measure is None:
        raise Conflict(f"resident {ev.resident} has no active support measure", field="resident")
    if ev.end < measure.start:
        raise InvalidInput("a measure cannot end before it starts", field="end")
    for m in _measures_of(reg, measure):
        reg.save_support_measure(m.model_copy(update={"end": ev.end}))
    return _side("support_measure_correct", ev.resident, ev.effective, end=ev.end.isoformat())


def _support_override(
    ev: SupportMeasureOverride, reg: Registers, city: CityProfile
) -> list[Change]:
    measure = _active_measure(reg, ev.resident, ev.effective)
    if measure is None:
        raise Conflict(f"resident {ev.resident} has no active support measure", field="resident")
    until = _instant(ev.until)
    if until.date() < ev.effective:
        raise InvalidInput("a release must end after it starts", field="until")
    requester = ResidentCode(ev.requester) if ev.requester else ev.resident
    reg.save_support_measure(
        measure.model_copy(
            update={
                "override_until": ev.until,
                "override_by": ev.officer,
                "override_for": requester,
            }
        )
    )
    return _side(
        "support_measure_override", ev.resident, ev.effective, until=ev.until, requester=requester
    )


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"until must be an ISO-8601 instant like 2026-12-05T17:00:00+09:00, not {text!r}",
            field="until",
        ) from exc


def _support_extend(ev: SupportMeasureExtend, reg: Registers, city: CityProfile) -> list[Change]:
    measure = _active_measure(reg, ev.resident, ev.effective)
    if measure is None:
        raise Conflict(f"resident {ev.resident} has no active support measure", field="resident")
    extended = extend_measure(measure, ev.effective)
    reg.save_support_measure(extended)
    return _side("support_measure_extend", ev.resident, ev.effective, end=extended.end.isoformat())


def _support_end(ev: SupportMeasureEnd, reg: Registers, city: CityProfile) -> list[Change]:
    measure = _active_measure(reg, ev.resident, ev.effective)
    if measure is None:
        raise Conflict(f"resident {ev.resident} has no active support measure", field="resident")
    reg.save_support_measure(measure.model_copy(update={"ended_on": ev.effective}))
    return _side(
        "support_measure_end", ev.resident, ev.effective, ended_on=ev.effective.isoformat()
    )


def _open_block(reg: Registers, resident: str, block_id: str | None = None) -> IssuanceBlock | None:
    return next(
        (
            b
            for b in reg.issuance_blocks(resident)
            if b.released_on is None and block_id in (None, b.block_id)
        ),
        None,
    )


def _block(ev: IssuanceBlockSet, reg: Registers, city: CityProfile) -> list[Change]:
    person = reg.resident(ResidentCode(ev.resident))
    if person is None:
        raise NotFound(f"no resident with code {ev.resident}", field="resident")
    targets = [m.resident_code for m in reg.household(person.household_id)] if ev.household else []
    changes = []
    for code in targets or [ev.resident]:
        existing = reg.issuance_blocks(code)
        if any(
            b.released_on is None
            and b.category == ev.category
            and set(b.processes) & set(ev.processes)
            for b in existing
        ):
            raise Conflict(
                f"resident {code} already has an issuance block of kind {ev.category}",
                field="resident",
            )
        base = f"BL-{code}-{ev.effective:%Y%m%d}"
        taken = {b.block_id for b in existing}
        block_id = next(i for i in (base, *(f"{base}-{n}" for n in range(2, 99))) if i not in taken)
        block = IssuanceBlock(
            block_id=block_id,
            resident_code=code,
            reason=ev.reason,
            start=ev.effective,
            end=ev.end,
            level=ev.level,
            category=ev.category,
            processes=tuple(dict.fromkeys(ev.processes)),
            household_id=person.household_id if ev.household else None,
        )
        reg.save_issuance_block(block)
        changes += _side("issuance_block", code, ev.effective, block=block.model_dump(mode="json"))
    return changes


def _unblock(ev: IssuanceBlockRelease, reg: Registers, city: CityProfile) -> list[Change]:
    block = _open_block(reg, ev.resident, ev.block_id)
    if block is None:
        raise Conflict(f"resident {ev.resident} has no issuance block to release", field="resident")
    reg.save_issuance_block(block.model_copy(update={"released_on": ev.effective}))
    return _side(
        "issuance_block_release",
        ev.resident,
        ev.effective,
        released_on=str(ev.effective),
        block_id=block.block_id,
    )


def _unblock_for_now(
    ev: IssuanceBlockTemporaryRelease, reg: Registers, city: CityProfile
) -> list[Change]:
    block = _open_block(reg, ev.resident)
    if block is None:
        raise Conflict(f"resident {ev.resident} has no issuance block to release", field="resident")
    try:
        until = datetime.fromisoformat(ev.until)
    except ValueError as exc:
        raise InvalidInput(
            f"until must be an ISO-8601 instant like 2026-12-05T17:00:00+09:00, not {ev.until!r}",
            field="until",
        ) from exc
    if until.date() < ev.effective:
        raise InvalidInput("a temporary release must end after it starts", field="until")
    reg.save_issuance_block(block.model_copy(update={"temporary_release_until": ev.until}))
    return _side("issuance_block_temporary_release", ev.resident, ev.effective, until=ev.until)


def _dispose(ev: CertificateDisposal, reg: Registers, city: CityProfile) -> list[Change]:
    entry = reg.issuance(ev.issue_number)
    if entry is None or entry.resident_code != ev.resident:
        raise NotFound(
            f"no certificate No.{ev.issue_number} issued for resident {ev.resident}",
            field="issue_number",
        )
    if entry.disposed_on is not None:
        raise Conflict(
            f"certificate No.{ev.issue_number} was disposed of on {entry.disposed_on}",
            field="issue_number",
        )
    reg.dispose_issuance(ev.issue_number, ev.effective, ev.reason)
    return _side("certificate_disposal", ev.resident, ev.effective, issue_number=ev.issue_number)


def _special_move_out(ev: SpecialMoveOut, reg: Registers, city: CityProfile) -> list[Change]:
    """Each member's planned move-out and removal; who stays waits for a 世帯主変更."""
    people = [_live(reg, ResidentCode(code)) for code in dict.fromkeys(ev.members)]
    households = {p.household_id for p in people}
    if len(households) != 1:
        raise InvalidInput("a special move-out moves members of one household", field="members")
    destination = ev.destination.to_address()
    if destination.city == city.name and destination.prefecture == city.prefecture:
        raise InvalidInput("a move within the city is a move_within", field="destination")
    moving = {p.resident_code for p in people}
    changes: list[Change] = []
    for person in people:
        if ev.notified_on < ev.effective:
            planned = person.model_copy(
                update={
                    "planned_move_out": PlannedMoveOut(
                        planned_on=ev.effective, notified_on=ev.notified_on, destination=destination
                    ),
                    "special_move_out": True,
                }
            )
            changes.append(_write(reg, person, planned, ev.notified_on, "move_out_planned"))
            person = planned
        removed = _remove(person, RemovalReason.MOVED_OUT, ev, destination)
        removed = removed.model_copy(update={"special_move_out": True})
        changes.append(_write(reg, person, removed, ev.effective, "move_out"))
        _end_seal(reg, person.resident_code, ev.effective)
    for person in people:
        _keep_measure_as_former_address(reg, person.resident_code, ev.effective)
    head = next((p for p in people if p.relationship == kinship.HEAD), None)
    if head is not None:  # who stays waits for the clerk's 世帯主変更 (jyuki-stnd 4.0.4)
        changes += _rehead(reg, head, ev, frozenset(moving))
    return changes


def _special_move_in(ev: SpecialMoveIn, reg: Registers, city: CityProfile) -> list[Change]:
    """The household from the received data, at its new address, codes and numbers kept."""
    address = _city_address(reg, city, ev.address)
    household_id, head_name = reg.new_household_id(), ev.members[0].name
    changes = []
    for number, member in enumerate(ev.members):
        code = ResidentCode(member.resident)
        if reg.resident(code) is not None:
            raise Conflict(f"resident code {code} is already in use", field="resident")
        individual = IndividualNumber(member.individual_number)
        if reg.resident_by_number(individual) is not None:
            raise Conflict(
                f"individual number {individual} is already in use", field="individual_number"
            )
        person = Resident(
            resident_code=code,
            individual_number=individual,
            name=member.name,
            kana=member.kana,
            birth_date=member.birth_date,
            sex=member.sex,
            address=address,
            household_id=household_id,
            relationship="世帯主" if number == 0 else member.relationship,
            household_head_name=head_name,
            became_resident_on=ev.effective,
            address_set_on=ev.effective,
            notified_on=ev.notified_on,
            previous_address=ev.previous_address.to_address(),
            domicile=member.domicile,
            domicile_head=member.domicile_head,
        )
        changes.append(_write(reg, None, person, ev.effective, "move_in"))
    return changes


_BLOCK_EVENTS = (IssuanceBlockSet, IssuanceBlockRelease, IssuanceBlockTemporaryRelease)

_HANDLERS: dict[type[Any], Any] = {
    Birth: _birth,
    Death: _death,
    MoveIn: _move_in,
    MoveOut: _move_out,
    MoveInNoticeReceived: _move_in_notice,
    MoveWithin: _move_within,
    NameChange: _name_change,
    HouseholdChange: _household_change,
    HouseholdHeadChange: _head_change,
    HouseholdOrder: _household_order,
    AliasSet: _alias_set,
    AliasRemove: _alias_remove,
    SexChange: _sex_change,
    FormerSurname: _former_surname,
    Correction: _correction,
    CancelChange: _cancel,
    Marriage: _marriage,
    Divorce: _divorce,
    Adoption: _adoption,
    SpecialAdoption: _special_adoption,
    SpecialAdoptionDissolution: _dissolve_special_adoption,
    DomicileTransferOut: _transfer_out,
    DomicileTransferIn: _transfer_in,
    SealRegister: _seal_register,
    SealAbolish: _seal_abolish,
    TaxAssessmentEvent: _tax,
    SupportMeasureStart: _support_start,
    SupportMeasureExtend: _support_extend,
    SupportMeasureEnd: _support_end,
    SupportMeasureCorrect: _support_correct,
    SupportMeasureOverride: _support_override,
    IssuanceBlockSet: _block,
    IssuanceBlockRelease: _unblock,
    IssuanceBlockTemporaryRelease: _unblock_for_now,
    CertificateDisposal: _dispose,
    SpecialMoveOut: _special_move_out,
    SpecialMoveIn: _special_move_in,
}
