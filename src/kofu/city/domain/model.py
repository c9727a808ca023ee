"""The records a city keeps, as immutable values.

A record is replaced, never edited: every change makes a new value, and the
register keeps the old one in its history, so any past state can be shown
(住民票 history lines, 除票, the 附票's address list).

The models are pydantic so that they validate and serialise themselves; they
know nothing of where they are stored.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kofu.city.domain.dates import DatePrecision, printed_date

__all__ = [
    "Address",
    "AliasEntry",
    "AttachmentLine",
    "Cancellation",
    "ConfirmedMoveOut",
    "ExOfficio",
    "FamilyRegister",
    "ForeignResidency",
    "IssuanceBlock",
    "IssuanceLogEntry",
    "Offender",
    "PlannedMoveOut",
    "Process",
    "Record",
    "RegisterEntry",
    "RegisterMember",
    "RemovalReason",
    "Resident",
    "ResidentStatus",
    "SealRegistration",
    "Sex",
    "StayCategory",
    "SupportMeasure",
    "TaxAssessment",
]


class Record(BaseModel):
    """Base of every stored value: frozen, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Sex(StrEnum):
    """性別, printed 男 / 女."""

    MALE = "male"
    FEMALE = "female"

    @property
    def ja(self) -> str:
        return "男" if self is Sex.MALE else "女"


class ResidentStatus(StrEnum):
    """Whether the record is live or kept as a 除票 (removed record)."""

    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class RemovalReason(StrEnum):
    """消除事由 of a 除票."""

    MOVED_OUT = "転出"
    DECEASED = "死亡"
    EX_OFFICIO = "職権消除"
    CANCELLED = "異動の取消し"  # a record whose only entry (転入, 出生) was cancelled (減)


class Address(Record):
    """A Japanese address as the register writes it."""

    postal_code: str | None = None
    prefecture: str
    city: str
    town: str = ""
    block: str = ""  # 番地・号, e.g. "20番地1"
    building: str = ""

    @property
    def text(self) -> str:
        """The whole address, as printed (prefecture first)."""
        tail = f"　{self.building}" if self.building else ""
        return f"{self.prefecture}{self.city}{self.town}{self.block}{tail}"

    @property
    def in_city(self) -> str:
        return f"{self.town}{self.block}"


class StayCategory(StrEnum):
    """住民基本台帳法第30条の45 の区分: which kind of foreign resident the record is."""

    MID_LONG = "中長期在留者"
    SPECIAL_PERMANENT = "特別永住者"
    TEMPORARY_REFUGE = "一時庇護許可者"
    PROVISIONAL_STAY = "仮滞在者"
    TRANSITIONAL = "経過滞在者"  # 出生又は国籍喪失による経過滞在者


class AliasEntry(Record):
    """通称の記載又は削除: what, when and by which city (jyuki-stnd 1.1.2, 1.1.7)."""

    action: Literal["記載", "削除"]
    alias: str
    on: date
    city: str


class ForeignResidency(Record):
    """Items only a foreign resident's record has (外国人住民, jyuki-stnd 1.1.2)."""

    nationality: str  # 国籍・地域
    category: StayCategory = StayCategory.MID_LONG  # 法第30条の45 の区分
    residence_status: str | None = None  # 在留資格 (中長期在留者 only)
    period_of_stay: str | None = None  # 在留期間, 上陸期間 or 仮滞在期間, e.g. "2年", "6月"
    period_of_stay_until: date | None = None  # 在留期間の満了の日
    residence_card_number: str | None = None  # 在留カード or 特別永住者証明書 の番号
    alias: str | None = None  # 通称
    alias_history: tuple[AliasEntry, ...] = ()  # 通称の記載及び削除に関する事項, oldest first
    alphabetic_name: str | None = None  # 氏名（アルファベット）

    @model_validator(mode="before")
    @classmethod
    def _older_records(cls, data: Any) -> Any:
        """Records written before the 区分 was kept carried 特別永住者 as a 在留資格."""
        special = StayCategory.SPECIAL_PERMANENT.value
        if (
            isinstance(data, dict)
            and "category" not in data
            and data.get("residence_status") == special
        ):
            data = {**data, "category": special, "residence_status": None}
        return data

    @model_validator(mode="after")
    def _items_of_the_category(self) -> ForeignResidency:
        """Each 区分 has its own items (法第30条の45 の表); none borrows another's."""
        if self.category is StayCategory.MID_LONG:
            if not self.residence_status or not self.residence_card_number:
                raise ValueError("a 中長期在留者 has a 在留資格 and a 在留カード番号")
        elif self.residence_status is not None:
            raise ValueError(f"a {self.category.value} has no 在留資格")
        if self.category is StayCategory.SPECIAL_PERMANENT and not self.residence_card_number:
            raise ValueError("a 特別永住者 has a 特別永住者証明書の番号")
        return self

    @property
    def stay_ends(self) -> bool:
        """Whether the stay has an end (a card's validity ends with it, 番号法施行令)."""
        permanent = self.residence_status in ("永住者", "高度専門職2号")
        return self.category is not StayCategory.SPECIAL_PERMANENT and not permanent


class PlannedMoveOut(Record):
    """A move-out notified before it happens (転出届): the date and where to."""

    planned_on: date  # 転出予定年月日
    notified_on: date
    destination: Address


class ConfirmedMoveOut(Record):
    """What the new city's 転入通知 confirmed (jyuki-stnd 4.1.3.1.1), beside the planned move."""

    moved_on: date  # 転出年月日（確定）: the day the person moved in at the new city
    destination: Address  # 転出先住所（確定）
    notice_on: date  # 転入通知日: the day the notice was taken in
    from_city: str | None = None  # the notifying city's 全国地方公共団体コード
    notice_id: str | None = None  # the notice's id on the city-to-city link (a resend is the same)


class ExOfficio(Record):
    """職権記載等 (jyuki-stnd 4.2.0.1, 4.2.0.2): a change the city wrote without the notification.

    Kept on the version the change wrote, for the 職権記録書 and the 統合記載欄;
    the next version does not carry it.
    """

    basis: str  # why the city wrote it: 届出期間経過, 実態調査 …
    recorded_on: date  # 処理日: the day the clerk wrote it
    late_notification_on: date | None = None  # 届出日 of a notification too late to be one
    requested_on: date | None = None  # 申出日, when written at the person's request (4.2.0.5)
    notice_on: date | None = None  # the day the 職権記載等通知書 went to the person


class Cancellation(Record):
    """異動の取消し (jyuki-stnd 4.6.0.1): the versions a cancellation undid, what and why.

    Kept on the version that restored the record; the cancelled versions stay
    in the history beside it.
    """

    versions: tuple[int, ...]  # the cancelled versions, oldest first
    kind: str  # the cancelled change's kind: move_out, move_within …
    category: Literal["増", "減", "修正"]  # 異動取消（増）, （減）, （修正）
    change_on: date  # the cancelled change's 異動日
    cancelled_on: date  # the day the cancellation was made
    reason: str


class Resident(Record):
    """One person's resident record (住民票) at one moment."""

    resident_code: str  # 住民票コード
    individual_number: str  # 個人番号
    name: str  # 氏名, family and given names separated by a full-width space
    kana: str  # フリガナ, katakana
    birth_date: date
    sex: Sex
    address: Address
    household_id: str
    birth_date_precision: DatePrecision = DatePrecision.DAY  # 月日不詳, 年月日不詳 (1.1.8)
    birth_date_era: str | None = None  # the era written, on a day of two eras (明治45年7月30日)
    relationship: str  # 続柄 to the household head: 世帯主, 妻, 子, 母, 同居人 …
    household_head_name: str
    became_resident_on: date  # 住民となった年月日
    address_set_on: date  # 住所を定めた年月日
    notified_on: date  # 届出日
    previous_address: Address | None = None  # 転入前住所 (None when born here)
    prior_address: Address | None = None  # 異動前住所 (after a move within the city)
    domicile: str | None = None  # 本籍 (Japanese nationals only)
    domicile_head: str | None = None  # 筆頭者
    family_register_id: str | None = None
    foreign: ForeignResidency | None = None
    status: ResidentStatus = ResidentStatus.RESIDENT
    removed_on: date | None = None  # 消除日 (the event's date)
    removal_reason: RemovalReason | None = None
    removal_notified_on: date | None = None
    move_out_destination: Address | None = None  # 転出先
    planned_move_out: PlannedMoveOut | None = None
    confirmed_move_out: ConfirmedMoveOut | None = None  # 転出（確定）, from the 転入通知
    name_history: tuple[str, ...] = ()  # earlier names, newest last
    # 世帯主不在: the head who left (死亡, 転出) while two or more members stayed; the
    # relations above are still written against that head until a 世帯主変更.
    former_head: str | None = None
    household_position: int | None = None  # the clerk's order in the household (5.2), 1 first
    former_surname: str | None = None  # 旧氏, written at the person's request (1.1.7)
    ex_officio: ExOfficio | None = None  # the change that wrote this version was 職権記載
    cancellation: Cancellation | None = None  # this version undid an earlier change (取消し)
    # the 転入 or 転出 was for a 特別養子縁組 (or its 解消): 備考 beside 転入前住所 or 転出先,
    # and the 除票's 転出先 left blank (jyuki-stnd 1.1.5, 1.1.14)
    adoption_move: Literal["特別養子縁組", "特別養子縁組解消"] | None = None
    # the move-out went by 転出届の特例 (My Number card): its data went through Juki-net
    special_move_out: bool = False

    @property
    def head_absent(self) -> bool:
        return self.former_head is not None

    @property
    def is_resident(self) -> bool:
        return self.status is ResidentStatus.RESIDENT

    @property
    def printed_birth_date(self) -> str:
        """生年月日 as entered; a foreign resident's in the Western calendar (1.1.9)."""
        return printed_date(
            self.birth_date,
            self.birth_date_precision,
            self.birth_date_era,
            western=self.foreign is not None,
        )

    @property
    def family_name(self) -> str:
        return self.name.split("　", 1)[0]

    def age_on(self, day: date) -> int:
        """Age in completed years; a 29 Feb birthday ages on 1 Mar in common years (年齢計算)."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class RegisterEntry(Record):
    """One 身分事項 line of a family register: what happened, when, and the details."""

    kind: str  # 出生, 婚姻, 離婚, 養子縁組, 死亡, 転籍, 入籍, 除籍 …
    on: date
    details: tuple[tuple[str, str], ...] = ()  # (【項目】, value) pairs as printed


class AttachmentLine(Record):
    """One address of the 戸籍の附票: where the person lived, from when."""

    address: Address
    set_on: date


class RegisterMember(Record):
    """A person written in a family register (戸籍に記載されている者)."""

    name: str
    kana: str | None = None
    birth_date: date
    sex: Sex
    father: str | None = None
    mother: str | None = None
    relationship: str  # 続柄 in the register: 長男, 二女, 妻, 夫 …
    resident_code: str | None = None
    removed: bool = False  # 除籍 (struck out, e.g. by death or marriage)
    removed_reason: str | None = None
    entries: tuple[RegisterEntry, ...] = ()
    attachment: tuple[AttachmentLine, ...] = ()  # 附票 address history


class FamilyRegister(Record):
    """A family register (戸籍): a domicile, its head and its members, in order."""

    register_id: str
    domicile: str  # 本籍
    head_name: str  # 筆頭者氏名
    made_on: date  # 編製日
    made_reason: str  # 編製事由: 婚姻, 転籍, 分籍 …
    closed_on: date | None = None  # the whole register closed (除籍簿) by transfer out
    closed_reason: str | None = None
    members: tuple[RegisterMember, ...]

    def member_for(self, resident_code: str) -> RegisterMember | None:
        return next((m for m in self.members if m.resident_code == resident_code), None)


class IssuanceLogEntry(Record):
    """交付履歴 (jyuki-stnd 1.3.8): one issued copy, where and by whom, and its disposal."""

    issue_number: int
    issued_at: datetime
    channel: str
    certificate: str
    resident_code: str
    place: str | None = None
    terminal: str | None = None
    staff_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)  # subjects, items, pages, copy of copies
    disposed_on: date | None = None  # 処分: a copy issued in error and destroyed
    disposal_reason: str | None = None


class SealRegistration(Record):
    """印鑑登録: the registered seal of one resident."""

    registration_number: str
    resident_code: str
    registered_on: date
    impression: str  # the characters the seal carries
    abolished_on: date | None = None
    # who ended it: its owner (廃止申請) or the register (the holder's 消除); only the
    # latter comes back when the removal is cancelled
    abolished_by: Literal["owner", "removal"] | None = None

    @property
    def active(self) -> bool:
        return self.abolished_on is None

    def active_on(self, day: date) -> bool:
        """Registered on ``day``: an abolition dated later (a planned move-out) has not come."""
        return self.registered_on <= day and (self.abolished_on is None or day < self.abolished_on)


class TaxAssessment(Record):
    """個人住民税の課税: one fiscal year's assessment on the previous year's income."""

    resident_code: str
    fiscal_year: int  # 年度 (April to March); income is of the preceding calendar year
    incomes: dict[str, int] = Field(default_factory=dict)  # 所得の種類 → 所得金額
    revenues: dict[str, int] = Field(default_factory=dict)  # 収入金額 where the kind has one
    deductions: dict[str, int] = Field(default_factory=dict)  # 所得控除 kind → amount
    dependents: int = 0  # 扶養人数
    municipal_tax: int  # 市町村民税 annual amount
    prefectural_tax: int  # 道府県民税 annual amount
    assessed_on: date

    @property
    def total_income(self) -> int:
        return sum(self.incomes.values())

    @property
    def total_deductions(self) -> int:
        return sum(self.deductions.values())

    @property
    def taxable_income(self) -> int:
        """課税標準額, rounded down to the thousand yen as the tax law does."""
        return max(0, self.total_income - self.total_deductions) // 1000 * 1000

    @property
    def income_year(self) -> int:
        return self.fiscal_year - 1


class Offender(Record):
    """加害者: whom the measure protects against; often not a resident of this city."""

    name: str
    birth_date: date | None = None
    resident_code: str | None = None


class SupportMeasure(Record):
    """住民基本台帳事務における支援措置 for a DV, stalking or abuse victim (standard spec j440)."""

    measure_id: str
    resident_code: str
    kind: str  # DV, ストーカー, 児童虐待, その他
    start: date
    end: date
    provisional: bool = False  # 仮支援措置 while the application is being checked
    extended_times: int = 0
    ended_on: date | None = None
    applicant: str | None = None  # 申出者 (住民票コード)
    joint_with: tuple[str, ...] = ()  # 併せて支援を求める者 (their own measures carry joint_of)
    joint_of: str | None = None  # the 支援対象者 whose application covers this person
    offenders: tuple[Offender, ...] = ()  # 加害者
    initial_city: str | None = None  # 当初受付市区町村 of a provisional measure taken over
    basis: str = "申出"  # 申出, or 前住所地 after the person moved out (仮支援措置 continues)
    override_until: str | None = None  # ISO instant: the officer's release at the counter
    override_by: str | None = None  # 支援措置責任者 who decided it
    override_for: str | None = None  # whose request it releases (住民票コード)

    def active_on(self, day: date) -> bool:
        if self.ended_on is not None and day >= self.ended_on:
            return False
        return self.start <= day <= self.end

    def state_on(self, day: date) -> str:
        """仮支援措置中, 支援措置期間中, 期間満了 (not extended) or 終了."""
        if self.ended_on is not None and day >= self.ended_on:
            return "終了"
        if day > self.end:
            return "期間満了"
        if day < self.start:
            return "開始前"
        return "仮支援措置中" if self.provisional else "支援措置期間中"


Process = Literal["異動", "照会", "証明"]  # what a block stops: changes, inquiries, certificates


class IssuanceBlock(Record):
    """異動・発行・照会の抑止 (standard spec j410): its end date does not lift it; only a release.

    Several may stand at once, each with its kind, the processes it stops and
    its level: ``error`` stops them, ``alert`` lets them go with a warning.  A
    household block is written for every member of the household.
    """

    block_id: str
    resident_code: str
    reason: str
    start: date
    end: date | None = None
    level: str = "error"  # error stops the process; alert only warns the clerk
    released_on: date | None = None
    temporary_release_until: str | None = None  # ISO instant; the counter only, never the store
    category: str = "その他"  # 抑止の種類: 支援措置, 本人確認, 排他, その他 …
    processes: tuple[Process, ...] = ("証明",)
    household_id: str | None = None  # set when the block was made for the whole household

    def standing_on(self, day: date, process: Process = "証明") -> bool:
        """Set for ``process`` and not released, at either level."""
        return process in self.processes and self.start <= day and self.released_on is None

    def blocks_on(self, day: date, process: Process = "証明") -> bool:
        return self.level == "error" and self.standing_on(day, process)

    def warns_on(self, day: date, process: Process = "証明") -> bool:
        return self.level == "alert" and self.standing_on(day, process)
