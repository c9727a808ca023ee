"""The city's certificates as the renderer's document model: what each prints, in what order.

Residence certificates are household-list style (世帯連記式): up to four
members a sheet.  Family-register certificates follow the computerised
format of 戸籍法施行規則 付録第二十二号様式: 本籍 and 氏名, 戸籍事項, then each
person with 身分事項.  Dates print in the Japanese era.
"""

from __future__ import annotations

from datetime import date

from kofu.city.domain.certificates import (
    Document,
    FamilyRegisterCertificate,
    Item,
    MoveOutCertificate,
    ResidenceCertificate,
    SealCertificate,
    TaxCertificate,
)
from kofu.city.domain.dates import DatePrecision, printed_date
from kofu.city.domain.model import ForeignResidency, RegisterMember, Resident, StayCategory
from kofu.city.domain.remarks import HistoryLine
from kofu.core.era import wareki, wareki_year
from kofu.documents.model import (
    Block,
    Certificate,
    Certification,
    Household,
    Paragraph,
    SealImpression,
    Table,
)

__all__ = ["certificate_of"]

_PER_SHEET = 4  # 世帯連記式: four members a sheet

# Each form's own words, reserved first in every document (fonts.reserve_first).
_FIXED_WORDS = {
    ResidenceCertificate: "生男女届出以下余白",
    MoveOutCertificate: "生男女転出予定先年月日届出以下余白",
    SealCertificate: "生男女",
    TaxCertificate: "度中の所得円人なし非課税,",
    FamilyRegisterCertificate: "【】名生父母続柄編製事由除籍以下余白",
}


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _born(p: Resident) -> str:
    """生年月日 as entered (明治45年7月30日生, 昭和20年　月日不詳); Western for foreigners."""
    printed = p.printed_birth_date
    return f"{printed}生" if p.birth_date_precision is DatePrecision.DAY else printed


def _who_rows(p: Resident) -> list[tuple[str, str]]:
    """Who the person is, as every certificate of a person opens: name, 旧氏, birth and sex."""
    rows = [("氏名", f"{p.name}（{p.kana}）")]
    if p.former_surname:
        rows.append(("旧氏", p.former_surname))
    if p.foreign is not None and p.foreign.alphabetic_name:
        rows.append(("氏名（アルファベット）", p.foreign.alphabetic_name))
    rows.append(("生年月日・性別", f"{_born(p)}　{p.sex.ja}"))
    return rows


def _member_rows(p: Resident, c: ResidenceCertificate) -> list[tuple[str, str]]:
    rows = _who_rows(p)
    if Item.HEAD in c.items:
        rows.append(("続柄", p.relationship))
    if p.foreign is not None:
        rows += _foreign_rows(p.foreign, Item.FOREIGN in c.items)
    became = "外国人住民となった年月日" if p.foreign is not None else "住民となった年月日"
    rows.append((became, wareki(p.became_resident_on)))
    rows.append(
        ("住所を定めた年月日", f"{wareki(p.address_set_on)}　届出日 {wareki(p.notified_on)}")
    )
    if p.previous_address is not None:
        rows.append(("転入前住所", p.previous_address.text))
    if c.history:
        lines = [_history_text(line) for line in c.remarks.get(p.resident_code, ())]
        rows.append(("統合記載欄", "\n".join(lines) or "記載なし"))
    if Item.DOMICILE in c.items and p.domicile:
        rows.append(("本籍", p.domicile))
        rows.append(("筆頭者", p.domicile_head or ""))
    if Item.INDIVIDUAL_NUMBER in c.items:
        rows.append(("個人番号", p.individual_number))
    if Item.RESIDENT_CODE in c.items:
        rows.append(("住民票コード", p.resident_code))
    if c.removed and p.removed_on is not None:
        rows.append(("消除事由", f"{p.removal_reason}　{wareki(p.removed_on)}"))
        blank = p.adoption_move is not None  # moved away to be adopted: not where (1.1.5)
        if p.move_out_destination is not None:
            rows.append(("転出先", "" if blank else p.move_out_destination.text))
        if p.confirmed_move_out is not None:  # 除票固有の記載事項, from the 転入通知 (4.1.3.1.1)
            done = p.confirmed_move_out
            rows.append(("転出年月日（確定）", wareki(done.moved_on)))
            rows.append(("転出先（確定）", "" if blank else done.destination.text))
            rows.append(("転入通知日", wareki(done.notice_on)))
    return rows


def _history_text(line: HistoryLine) -> str:
    """One 異動 as the 統合記載欄 writes it: 事由, 異動日, 届出日, what changed."""
    text = f"{line.reason}　{wareki(line.on)}"
    if line.notified_on is not None:
        text += f"　届出 {wareki(line.notified_on)}"
    return f"{text}　{line.detail}" if line.detail else text


def _foreign_rows(f: ForeignResidency, with_stay: bool) -> list[tuple[str, str]]:
    """国籍・地域 and 通称 always; the 法第30条の45 区分 and its items when asked (1.1.2, 5.1).

    The end of a stay prints in the Western calendar (1.1.9); each 区分 prints
    only its own items, so a 特別永住者 has no 在留資格 or 満了の日.
    """
    rows = [("国籍・地域", f.nationality)]
    if f.alias:
        rows.append(("通称", f.alias))
    if not with_stay:
        return rows
    for entry in f.alias_history:
        line = f"{wareki(entry.on)}　{entry.city}　{entry.action}　{entry.alias}"
        rows.append(("通称の記載・削除", line))
    rows.append(("法第30条の45の区分", f.category.value))
    period = _PERIOD_LABEL.get(f.category)
    if f.category is StayCategory.MID_LONG:
        rows.append(("在留資格", f.residence_status or ""))
    if period and f.period_of_stay:
        rows.append((period, f.period_of_stay))
    if f.category is StayCategory.MID_LONG and f.period_of_stay_until:
        rows.append(("在留期間の満了の日", printed_date(f.period_of_stay_until, western=True)))
    if f.residence_card_number and f.category in _CARD_LABEL:
        rows.append((_CARD_LABEL[f.category], f.residence_card_number))
    return rows


_PERIOD_LABEL = {
    StayCategory.MID_LONG: "在留期間",
    StayCategory.TEMPORARY_REFUGE: "上陸期間",
    StayCategory.PROVISIONAL_STAY: "仮滞在期間",
}
_CARD_LABEL = {
    StayCategory.MID_LONG: "在留カードの番号",
    StayCategory.SPECIAL_PERMANENT: "特別永住者証明書の番号",
}


def _residence(c: ResidenceCertificate) -> list[Block]:
    header = [("住所", c.members[0].address.text)]
    if Item.HEAD in c.items:
        header.append(("世帯主", c.household_head))
    members = tuple(Table(tuple(_member_rows(p, c)), label_w=42, size=9) for p in c.members)
    per_sheet = 1 if c.form == "person" else _PER_SHEET  # 個人票: one person a sheet
    return [Household(Table(tuple(header)), members, per_sheet=per_sheet), Paragraph("以下余白")]


def _mover_rows(p: Resident) -> list[tuple[str, str]]:
    """One person moving: every item the ordinance names, none left out (施行令第23条)."""
    rows = _who_rows(p)
    rows.append(("続柄", p.relationship))
    if p.foreign is not None:
        rows += _foreign_rows(p.foreign, with_stay=True)
    elif p.domicile:
        rows.append(("本籍", p.domicile))
        rows.append(("筆頭者", p.domicile_head or ""))
    rows.append(("住民票コード", p.resident_code))
    rows.append(("個人番号", p.individual_number))
    return rows


IN_LIEU_TITLE = "転出証明書に準ずる証明書"
IN_LIEU_NOTE = (
    "この証明書は、転出の日から14日を経過した後の届出により職権で転出の記載をしたため、"
    "転出証明書に代えて、転入届に添付すべき書類として発行したものです。"
)


def _move_out(c: MoveOutCertificate) -> list[Block]:
    """転出証明書: the address left and its head, each person, then the move (予定 or done)."""
    header = (("住所", c.address.text), ("世帯主", c.household_head))
    members = tuple(Table(tuple(_mover_rows(p)), label_w=42, size=9) for p in c.members)
    word = "転出予定" if c.planned else "転出"
    move = (
        ("異動", f"{word}　{len(c.members)}人"),
        (f"{word}年月日", wareki(c.moves_on)),
        (f"転出先{'（予定）' if c.planned else ''}", c.destination.text),
        ("届出年月日", wareki(c.notified_on)),
    )
    blocks: list[Block] = [
        Household(Table(header), members, per_sheet=_PER_SHEET),
        Table(move, label_w=42),
    ]
    if c.in_lieu:  # what it stands for (jyuki-stnd 4.1.3.0.3)
        blocks.append(Paragraph(IN_LIEU_NOTE))
    return [*blocks, Paragraph("以下余白")]


def _seal(c: SealCertificate) -> list[Block]:
    p = c.person
    rows = (
        ("氏名", p.name),
        ("生年月日", _born(p)),
        ("性別", p.sex.ja),
        ("住所", p.address.text),
        ("登録番号", c.seal.registration_number),
    )
    return [SealImpression(c.seal.impression), Table(rows)]


def _tax(c: TaxCertificate) -> list[Block]:
    a, p = c.assessment, c.person
    fiscal, income = wareki_year(date(a.fiscal_year, 4, 1)), wareki_year(date(a.income_year, 1, 1))
    person = (("住所", p.address.text), ("氏名", p.name), ("生年月日", _born(p)))
    blocks: list[Block] = [Paragraph(f"{fiscal}度（{income}中の所得）"), Table(person)]
    incomes = [(f"{k}（収入）", _yen(v)) for k, v in a.revenues.items()]
    incomes += [(k, _yen(v)) for k, v in a.incomes.items()] or [("所得", "なし")]
    incomes.append(("合計所得金額", _yen(a.total_income)))
    blocks.append(Table(tuple(incomes), label_w=60, caption="所得の状況"))
    deductions = [(k, _yen(v)) for k, v in a.deductions.items()]
    deductions.append(("所得控除の合計", _yen(a.total_deductions)))
    deductions.append(("扶養親族の数", f"{a.dependents}人"))
    blocks.append(Table(tuple(deductions), label_w=60, caption="所得控除"))
    if c.with_tax:
        tax = [
            ("課税標準額", _yen(a.taxable_income)),
            ("市町村民税", _yen(a.municipal_tax)),
            ("道府県民税", _yen(a.prefectural_tax)),
            ("年税額合計", _yen(a.municipal_tax + a.prefectural_tax)),
        ]
        if a.municipal_tax == 0:
            tax.append(("備考", "非課税"))
        blocks.append(Table(tuple(tax), label_w=60, caption="税額"))
    return blocks


def _entry_text(member: RegisterMember) -> list[tuple[str, str]]:
    rows = []
    for e in member.entries:
        details = "　".join(f"【{k}】{v}" for k, v in e.details)
        rows.append((e.kind, details or wareki(e.on)))
    return rows


def _family(c: FamilyRegisterCertificate) -> list[Block]:
    reg = c.register
    blocks: list[Block] = [Table((("本籍", reg.domicile), ("氏名", reg.head_name)), label_w=32)]
    made = f"【編製日】{wareki(reg.made_on)}　【編製事由】{reg.made_reason}"
    closed = f"　【除籍】{wareki(reg.closed_on)}　{reg.closed_reason}" if reg.closed_on else ""
    blocks.append(Table((("戸籍事項", made + closed),), label_w=32))
    family_name = reg.head_name.split("　", 1)[0]
    for m in c.members:
        if c.attachment:
            lines = [("氏名", f"{family_name}　{m.name}"), ("生年月日", wareki(m.birth_date))]
            for line in m.attachment:
                lines.append(("住所", line.address.text))
                lines.append(("住所を定めた年月日", wareki(line.set_on)))
            caption = "除かれた者" if m.removed else None
            blocks.append(Table(tuple(lines), label_w=40, caption=caption))
            continue
        person = [
            ("戸籍に記録されている者", f"【名】{m.name}"),
            ("", f"【生年月日】{wareki(m.birth_date)}"),
            ("", f"【父】{m.father or ''}　【母】{m.mother or ''}　【続柄】{m.relationship}"),
        ]
        caption = "除　籍" if m.removed else None
        blocks.append(Table(tuple(person + _entry_text(m)), label_w=44, caption=caption))
    blocks.append(Paragraph("以下余白"))
    return blocks


def _body(doc: Document) -> list[Block]:
    c = doc.content
    if isinstance(c, ResidenceCertificate):
        return _residence(c)
    if isinstance(c, MoveOutCertificate):
        return _move_out(c)
    if isinstance(c, SealCertificate):
        return _seal(c)
    if isinstance(c, TaxCertificate):
        return _tax(c)
    return _family(c)


def certificate_of(doc: Document, *, preview: bool = False) -> Certificate:
    """What ``doc`` prints, for the renderer that knows nothing of the registers."""
    city = doc.issuer.city
    title, name, seal = doc.issuer.signatory
    certification = Certification(
        statement=doc.certification,
        issued_on=doc.issuer.issued_at.date(),
        prefecture=city.prefecture,
        mayor_title=title,
        mayor_name=name,
        city_code=city.code,
        issue_number=doc.issuer.issue_number,
        issue_label="見本　交付不可" if preview else doc.issuer.issue_label,
        seal_title=seal if seal != title else "",
    )
    move = doc.content if isinstance(doc.content, MoveOutCertificate) else None
    marks = (
        (("公用",) if doc.official else ())
        + (("再交付",) if move and move.reissued else ())
        + (("特例による転出処理済",) if move and move.special else ())
        + (("見本",) if preview else ())
    )
    return Certificate(
        title=IN_LIEU_TITLE if move and move.in_lieu else doc.type.label,
        form_words=_FIXED_WORDS[type(doc.content)],
        body=tuple(_body(doc)),
        certification=certification,
        marks=marks,
    )
