"""Which certificate may be issued, for whom, with which items — and what it says.

The rules follow the standard specification for resident record systems
(jyuki-stnd j1000 certificate items, j410 issuance blocks, j440 support
measures) and the counter practice of cities:

- a residence certificate (住民票の写し) covers the whole household or chosen
  members; household head and relationship (世帯主・続柄), domicile and head of
  the family register (本籍・筆頭者), the individual number (個人番号) and the
  resident code (住民票コード) are printed only when asked for;
- a removed record (除票: died or moved out) is issued only as a 除票 certificate;
- a seal certificate needs an active registration; tax and income certificates
  need an assessment for the fiscal year;
- family-register documents need a register kept in this city;
- a move-out certificate (転出証明書) needs a 転出届 to another city, is for the
  person and whoever moves with them, and is issued at the counter only;
- a support-measure subject or a blocked person gets nothing at all.

This module builds a plain description of the document; layouts draw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from kofu.city.domain.city import CityProfile
from kofu.city.domain.model import (
    Address,
    FamilyRegister,
    RegisterMember,
    Resident,
    SealRegistration,
    TaxAssessment,
)
from kofu.city.domain.remarks import HistoryLine
from kofu.core.errors import InvalidInput, Refused

__all__ = [
    "COUNTER_ONLY",
    "FORMS",
    "RESIDENT_TYPES",
    "STORE_STATION",
    "CertificateType",
    "Deputy",
    "IssueRequest",
    "Item",
    "MoveOutCertificate",
    "Station",
    "check_not_protected",
]


class CertificateType(StrEnum):
    """The certificates a city issues; values are the CLI's ``--type`` names."""

    JUMINHYO = "juminhyo"  # 住民票の写し
    JOHYO = "johyo"  # 住民票の除票の写し
    KISAI = "kisai"  # 住民票記載事項証明書
    JOHYO_KISAI = "johyo-kisai"  # 住民票除票記載事項証明書
    INKAN = "inkan"  # 印鑑登録証明書
    KAZEI = "kazei"  # 課税証明書
    SHOTOKU = "shotoku"  # 所得証明書
    KOSEKI_ZENBU = "koseki-zenbu"  # 戸籍全部事項証明書
    KOSEKI_KOJIN = "koseki-kojin"  # 戸籍個人事項証明書
    FUHYO = "fuhyo"  # 戸籍の附票の写し
    TENSHUTSU = "tenshutsu"  # 転出証明書 (counter only, free of charge)

    @property
    def label(self) -> str:
        return _TITLES[self]


_TITLES = {
    CertificateType.JUMINHYO: "住民票の写し",
    CertificateType.JOHYO: "住民票の除票の写し",
    CertificateType.KISAI: "住民票記載事項証明書",
    CertificateType.JOHYO_KISAI: "住民票除票記載事項証明書",
    CertificateType.INKAN: "印鑑登録証明書",
    CertificateType.KAZEI: "課税証明書",
    CertificateType.SHOTOKU: "所得証明書",
    CertificateType.KOSEKI_ZENBU: "戸籍全部事項証明書",
    CertificateType.KOSEKI_KOJIN: "戸籍個人事項証明書",
    CertificateType.FUHYO: "戸籍の附票の写し",
    CertificateType.TENSHUTSU: "転出証明書",
}


class Item(StrEnum):
    """Optional items of a residence certificate (``--with``)."""

    HEAD = "head"  # 世帯主・続柄
    DOMICILE = "domicile"  # 本籍・筆頭者
    INDIVIDUAL_NUMBER = "individual_number"  # 個人番号
    RESIDENT_CODE = "resident_code"  # 住民票コード
    FOREIGN = "foreign"  # 国籍・地域, 在留資格, 在留期間, 在留カード等の番号


_OPTIONS_BY_TYPE: dict[CertificateType, frozenset[Item]] = {
    CertificateType.JUMINHYO: frozenset(Item),
    CertificateType.JOHYO: frozenset(Item),
    CertificateType.KISAI: frozenset(Item),
    CertificateType.JOHYO_KISAI: frozenset(Item),
}
RESIDENT_TYPES = (
    CertificateType.JUMINHYO,
    CertificateType.JOHYO,
    CertificateType.KISAI,
    CertificateType.JOHYO_KISAI,
)
REMOVED_TYPES = (CertificateType.JOHYO, CertificateType.JOHYO_KISAI)
# handed over with the notification at the counter: never asked for at a store or a kiosk
COUNTER_ONLY = frozenset({CertificateType.TENSHUTSU})
FORMS = ("household", "person")  # 世帯連記式 or 個人票 (jyuki-stnd 1.1.3, 5.1)


@dataclass(frozen=True)
class IssueRequest:
    """What the clerk (or the store path) asked for."""

    type: CertificateType
    resident_code: str
    household: str = "self"  # "all", "self" or "members"
    members: tuple[str, ...] = ()
    items: frozenset[Item] = frozenset()
    history: bool = False  # 統合記載欄 with every 異動 on a residence certificate
    # 特別な事由の履歴 (特別養子縁組, its 解消, 性別の変更) in that 統合記載欄: left out
    # unless asked for (jyuki-stnd 1.1.4), so the 続柄 and 性別 before them never print
    special: bool = False
    fiscal_year: int | None = None
    form: str = "household"  # 世帯連記式 ("household") or 個人票 ("person")
    official: bool = False  # 公用: asked by a public office (jyuki-stnd 5.7)
    in_lieu: bool = False  # 転出証明書に準ずる証明書, for a move-out notified too late (4.1.3.0.3)

    @classmethod
    def parse(
        cls,
        *,
        type: str,
        resident_code: str,
        household: str | None = None,
        members: Sequence[str] = (),
        items: Sequence[str] = (),
        history: bool = False,
        fiscal_year: int | None = None,
        form: str | None = None,
        without: Sequence[str] = (),
        defaults: frozenset[Item] = frozenset(),
        official: bool = False,
        in_lieu: bool = False,
        special: bool = False,
    ) -> IssueRequest:
        """Validate the options for the certificate type; the error names the one not allowed.

        ``defaults`` are the items the city prints unless asked not to (its
        configuration, jyuki-stnd 5.1); ``items`` adds to them, ``without`` takes away.
        """
        try:
            kind = CertificateType(type)
        except ValueError as exc:
            names = ", ".join(t.value for t in CertificateType)
            raise InvalidInput(
                f"unknown certificate type {type!r}; one of {names}", field="type"
            ) from exc
        parsed = _items(items, "with")
        omitted = _items(without, "without")
        if parsed & omitted:
            both = ", ".join(sorted(i.value for i in parsed & omitted))
            raise InvalidInput(f"{both} is both asked for and left out", field="without")
        allowed = _OPTIONS_BY_TYPE.get(kind, frozenset())
        if omitted - allowed:
            raise InvalidInput(f"{kind.label} has no items to leave out", field="without")
        parsed = (parsed | (defaults & allowed)) - omitted
        if parsed - allowed:
            bad = sorted(i.value for i in parsed - allowed)
            raise InvalidInput(
                f"{kind.label} does not allow the item(s) {', '.join(bad)}", field="with"
            )
        resident_types = RESIDENT_TYPES
        household_types = (*RESIDENT_TYPES, CertificateType.TENSHUTSU)  # who moves together
        if form is not None and form not in FORMS:
            raise InvalidInput(f"--form must be household or person, not {form!r}", field="form")
        if form is not None and kind not in resident_types:
            raise InvalidInput(f"{kind.label} has no form option", field="form")
        if official and kind not in resident_types:
            raise InvalidInput(f"{kind.label} has no 公用 marking", field="official")
        if (household or members) and kind not in household_types:
            raise InvalidInput(
                f"{kind.label} is for one person; --household is not allowed", field="household"
            )
        if in_lieu and kind is not CertificateType.TENSHUTSU:
            raise InvalidInput(
                "--in-lieu (転出証明書に準ずる証明書) goes with --type tenshutsu", field="in_lieu"
            )
        if history and kind not in resident_types:
            raise InvalidInput(f"{kind.label} has no history option", field="history")
        if special and not history:
            raise InvalidInput("--special goes with --history (the 統合記載欄)", field="special")
        tax_types = (CertificateType.KAZEI, CertificateType.SHOTOKU)
        if fiscal_year is not None and kind not in tax_types:
            raise InvalidInput(f"{kind.label} has no fiscal year option", field="year")
        if fiscal_year is not None and not 2000 <= fiscal_year <= 2100:  # as tax events take
            raise InvalidInput("the fiscal year is 2000 to 2100", field="year")
        if members and household not in (None, "members"):
            raise InvalidInput(
                "--members goes with --household members (or alone)", field="members"
            )
        scope = "members" if members else (household or "self")
        if scope not in ("all", "self", "members"):
            raise InvalidInput(
                f"--household must be all, self or members, not {scope!r}", field="household"
            )
        return cls(
            type=kind,
            resident_code=resident_code,
            household=scope,
            members=tuple(members),
            items=frozenset(parsed),
            history=history,
            fiscal_year=fiscal_year,
            form=form or "household",
            official=official,
            in_lieu=in_lieu,
            special=special,
        )


def _items(raw_items: Sequence[str], where: str) -> set[Item]:
    parsed: set[Item] = set()
    for raw in raw_items:
        try:
            parsed.add(Item(raw.strip()))
        except ValueError as exc:
            names = ", ".join(i.value for i in Item)
            raise InvalidInput(f"unknown item {raw!r}; one of {names}", field=where) from exc
    return parsed


# --- what each document says -------------------------------------------------------------


@dataclass(frozen=True)
class Station:
    """Where a certificate is issued (jyuki-stnd 1.3.1): place, terminal, printer, and who.

    The terminal and printer name the 発行番号's middle parts (5.5); either may
    be empty where the device cannot be told (a store's machine).
    """

    place: str = "本庁"
    terminal: str = "本庁1"
    printer: str = "プリンタ001"
    staff_id: str = ""

    def __post_init__(self) -> None:
        for name in ("place", "terminal", "printer", "staff_id"):
            value = getattr(self, name)
            if len(value) > 32 or any(not ch.isprintable() for ch in value):
                raise InvalidInput(
                    f"{name} is at most 32 printable characters", field=name.replace("_", "")
                )


STORE_STATION = Station(place="コンビニ交付", terminal="", printer="")


@dataclass(frozen=True)
class Deputy:
    """職務代理者 (jyuki-stnd 1.3.9, 5.6): who certifies instead of the mayor, and when.

    Within its period the deputy's title and name print, with the deputy's
    seal; outside it the mayor signs, with no one switching by hand.
    """

    title: str  # e.g. 副市長
    name: str
    start: date
    end: date

    def acting_on(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Issuer:
    """Who certifies, when, and where: the certification statement's last line."""

    city: CityProfile
    issued_at: datetime
    issue_number: int
    station: Station = field(default_factory=Station)
    deputy: Deputy | None = None

    @property
    def signatory(self) -> tuple[str, str, str]:
        """職名, 氏名 and the seal's words of whoever certifies on the issue date."""
        mayor = self.city.mayor_title
        d = self.deputy
        if d is not None and d.acting_on(self.issued_at.date()):
            return f"{mayor}職務代理者　{d.title}", d.name, f"{mayor}職務代理者"
        return mayor, self.city.mayor_name, mayor

    @property
    def issue_label(self) -> str:
        """発行番号 as the standard writes it (5.5): 20261201 深谷市 本庁1 プリンタ001 0000123."""
        s = self.station
        parts = (f"{self.issued_at:%Y%m%d}", self.city.name, s.terminal, s.printer)
        return " ".join(p for p in (*parts, f"{self.issue_number:07d}") if p)


@dataclass(frozen=True)
class ResidenceCertificate:
    """住民票の写し / 除票の写し: the chosen members, in household order."""

    members: tuple[Resident, ...]
    items: frozenset[Item]
    whole_household: bool
    removed: bool
    history: bool
    household_head: str
    form: str = "household"
    extract: bool = False  # 記載事項証明書: certifies the items shown, not a copy
    remarks: dict[str, tuple[HistoryLine, ...]] = field(default_factory=dict)  # 統合記載欄


@dataclass(frozen=True)
class MoveOutCertificate:
    """転出証明書 (住民基本台帳法施行令第23条, jyuki-stnd 4.1.3.0.3): who moves and where.

    Every item the ordinance names prints, none omittable: 氏名, 生年月日, 性別,
    世帯主・続柄, 本籍・筆頭者 (Japanese nationals), 住民票コード, 個人番号, the
    foreign resident's 30条の45 items, and the move: 転出先 and its date, 予定
    when the notification came before the day, otherwise done.
    """

    members: tuple[Resident, ...]
    address: Address  # the address being left
    household_head: str
    destination: Address  # 転出先（予定）
    moves_on: date  # 転出予定年月日, or 転出年月日 when the move came first
    notified_on: date  # 転出届出日
    planned: bool  # 転出予定 (notified ahead) or 転出 (notified after the day)
    reissued: bool = False  # 再交付: one issued before still stands (lost, asked again)
    in_lieu: bool = False  # 転出証明書に準ずる証明書: the move-out was written ex officio
    special: bool = (
        False  # 特例による転出処理済: the move went by the special procedure (4.1.3.0.4)
    )


@dataclass(frozen=True)
class SealCertificate:
    """印鑑登録証明書."""

    person: Resident
    seal: SealRegistration


@dataclass(frozen=True)
class TaxCertificate:
    """課税証明書 or 所得証明書 for one fiscal year."""

    person: Resident
    assessment: TaxAssessment
    with_tax: bool


@dataclass(frozen=True)
class FamilyRegisterCertificate:
    """戸籍全部事項証明書 / 個人事項証明書 / 附票の写し."""

    register: FamilyRegister
    members: tuple[RegisterMember, ...]
    whole: bool
    attachment: bool


Content = (
    ResidenceCertificate
    | MoveOutCertificate
    | SealCertificate
    | TaxCertificate
    | FamilyRegisterCertificate
)


@dataclass(frozen=True)
class Holder:
    """Whom a document is for when the person has no resident record here (本籍地の請求)."""

    name: str
    resident_code: str  # 住民票コード as the register's 附票 knows it, or "" when unknown
    identity: str  # core.holder.identity_digest of name, birth date and sex


@dataclass(frozen=True)
class Document:
    """A certificate ready to draw: its type, its contents, and who certifies it."""

    type: CertificateType
    content: Content
    issuer: Issuer
    holder: Resident | Holder  # the person the request was made for
    subjects: tuple[str, ...] = field(default=())  # resident codes of everyone it shows
    warnings: tuple[str, ...] = ()  # alert-level blocks: issued, and the clerk is told
    official: bool = False  # 公用 printed at the top

    @property
    def certification(self) -> str:
        """認証文, as the standard forms word it."""
        c = self.content
        if isinstance(c, ResidenceCertificate) and c.extract:
            source = "住民票の除票" if c.removed else "住民票"
            return f"上記の事項は、{source}に記載されていることを証明する。"
        if isinstance(c, ResidenceCertificate):
            what = (
                "住民票の除票"
                if c.removed
                else ("世帯全員の住民票" if c.whole_household else "住民票")
            )
            return f"この写しは、{what}の原本と相違ないことを証明する。"
        if isinstance(c, MoveOutCertificate) and c.in_lieu:
            return "上記の者が転出したことを証明する。"
        if isinstance(c, MoveOutCertificate):
            return "上記の者から転出の届出があったことを証明する。"
        if isinstance(c, SealCertificate):
            return "この写しは、登録されている印影と相違ないことを証明します。"
        if isinstance(c, TaxCertificate):
            return "上記のとおり相違ないことを証明します。"
        if c.attachment:
            return "この写しは、戸籍の附票の原本と相違ないことを証明する。"
        if c.whole:
            return "これは、戸籍に記録されている事項の全部を証明した書面である。"
        return "これは、戸籍中の一部の者について記録されている事項の全部を証明した書面である。"


def check_not_protected(people: Sequence[Resident], protected: set[str], blocked: set[str]) -> None:
    """Refuse when anyone on the document is a support-measure subject or blocked."""
    for person in people:
        if person.resident_code in protected:
            raise Refused(
                "support_measure",
                "a person on this certificate is under a support measure (支援措置); "
                "apply at the main office counter",
                message_ja="支援措置の対象者が含まれるため発行できません。本庁窓口でご相談ください。",
            )
        if person.resident_code in blocked:
            raise Refused(
                "issuance_blocked",
                "issuance of certificates for this person is blocked (発行抑止)",
                message_ja="この方の証明書は発行が停止されています。窓口でお問い合わせください。",
            )


def today_of(issuer: Issuer) -> date:
    return issuer.issued_at.date()
