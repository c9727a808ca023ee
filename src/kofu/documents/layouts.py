"""The layout of each certificate, drawn on a ``Sheet``.

Residence certificates are household-list style (世帯連記式): up to four
members a sheet (fewer when many items are printed), further sheets for
larger households, each repeating the address, the certification only on
the last.  Family-register certificates follow the computerised
format of 戸籍法施行規則 付録第二十二号様式: 本籍 and 氏名, 戸籍事項, then each
person with 身分事項.  Dates print in the Japanese era.
"""

from __future__ import annotations

from datetime import date

from kofu.city.domain.certificates import (
    Document,
    FamilyRegisterCertificate,
    Item,
    ResidenceCertificate,
    SealCertificate,
    TaxCertificate,
)
from kofu.city.domain.model import RegisterMember, Resident
from kofu.core.era import wareki, wareki_year
from kofu.documents.seals import resident_seal_png
from kofu.documents.sheet import LEFT, Sheet

__all__ = ["common_words", "draw"]

_PER_SHEET = 4  # 世帯連記式: four members a sheet

# What the value column prints in Mincho whoever the person is: dates in the
# era, the foot of the page, each form's fixed words.  Reserved first in
# every document (fonts.reserve_first) so that their embedded subset is the
# same bytes; only what a form really prints, since each costs every copy.
_EVERY = "明治大正昭和平成令和元年月日0123456789 /　、。（）第号発行番"
_FIXED_WORDS = {
    ResidenceCertificate: "生男女届出",
    SealCertificate: "生男女",
    TaxCertificate: "度中の所得円人なし非課税,",
    FamilyRegisterCertificate: "【】名生父母続柄編製事由除籍以下余白",
}


def common_words(doc: Document) -> str:
    """The characters ``doc``'s form prints in Mincho for anyone (fonts.reserve_first)."""
    return _EVERY + _FIXED_WORDS[type(doc.content)]


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _member_rows(p: Resident, c: ResidenceCertificate) -> list[tuple[str, str]]:
    rows = [
        ("氏名", f"{p.name}（{p.kana}）"),
        ("生年月日・性別", f"{wareki(p.birth_date)}生　{p.sex.ja}"),
    ]
    if Item.HEAD in c.items:
        rows.append(("続柄", p.relationship))
    if p.foreign is not None:
        rows.append(("国籍・地域", p.foreign.nationality))
        if p.foreign.alias:
            rows.append(("通称", p.foreign.alias))
        if Item.FOREIGN in c.items:
            until = (
                wareki(p.foreign.period_of_stay_until) if p.foreign.period_of_stay_until else "—"
            )
            rows.append(("在留資格", p.foreign.residence_status))
            rows.append(("在留期間等の満了の日", until))
            rows.append(("在留カード等の番号", p.foreign.residence_card_number))
    rows.append(("住民となった年月日", wareki(p.became_resident_on)))
    rows.append(
        ("住所を定めた年月日", f"{wareki(p.address_set_on)}　届出日 {wareki(p.notified_on)}")
    )
    if p.previous_address is not None:
        rows.append(("転入前住所", p.previous_address.text))
    if c.history and p.prior_address is not None:
        rows.append(("異動前住所", p.prior_address.text))
    if Item.DOMICILE in c.items and p.domicile:
        rows.append(("本籍", p.domicile))
        rows.append(("筆頭者", p.domicile_head or ""))
    if Item.INDIVIDUAL_NUMBER in c.items:
        rows.append(("個人番号", p.individual_number))
    if Item.RESIDENT_CODE in c.items:
        rows.append(("住民票コード", p.resident_code))
    if c.removed and p.removed_on is not None:
        rows.append(("消除事由", f"{p.removal_reason}　{wareki(p.removed_on)}"))
        if p.move_out_destination is not None:
            rows.append(("転出先", p.move_out_destination.text))
    return rows


def _residence(sheet: Sheet, c: ResidenceCertificate) -> None:
    first = c.members[0]
    header = [("住所", first.address.text)]
    if Item.HEAD in c.items:
        header.append(("世帯主", c.household_head))
    sheet.rows(header)
    for i, p in enumerate(c.members):
        rows = _member_rows(p, c)
        if i and i % _PER_SHEET == 0:
            sheet.new_page()
            sheet.rows(header)
        else:  # a member who does not fit goes to a new sheet, which repeats the header
            page = sheet.pages
            sheet.ensure(sheet.rows_height(rows, 42, 9))
            if sheet.pages != page:
                sheet.rows(header)
        sheet.rows(rows, label_w=42, size=9)


def _seal(sheet: Sheet, c: SealCertificate) -> None:
    sheet.y += 2
    sheet.rect(LEFT, sheet.y, 50, 50)
    sheet.text(LEFT + 2, sheet.y + 4, "印影", 8)
    sheet.image(resident_seal_png(c.seal.impression), LEFT + 10, sheet.y + 8, 34)
    sheet.y += 55
    p = c.person
    sheet.rows(
        [
            ("氏名", p.name),
            ("生年月日", f"{wareki(p.birth_date)}生"),
            ("性別", p.sex.ja),
            ("住所", p.address.text),
            ("登録番号", c.seal.registration_number),
        ]
    )


def _tax(sheet: Sheet, c: TaxCertificate) -> None:
    a, p = c.assessment, c.person
    fiscal, income = wareki_year(date(a.fiscal_year, 4, 1)), wareki_year(date(a.income_year, 1, 1))
    sheet.paragraph(f"{fiscal}度（{income}中の所得）")
    sheet.rows(
        [("住所", p.address.text), ("氏名", p.name), ("生年月日", f"{wareki(p.birth_date)}生")]
    )
    incomes = [(f"{k}（収入）", _yen(v)) for k, v in a.revenues.items()]
    incomes += [(k, _yen(v)) for k, v in a.incomes.items()] or [("所得", "なし")]
    incomes.append(("合計所得金額", _yen(a.total_income)))
    sheet.rows(incomes, label_w=60, caption="所得の状況")
    deductions = [(k, _yen(v)) for k, v in a.deductions.items()]
    deductions.append(("所得控除の合計", _yen(a.total_deductions)))
    deductions.append(("扶養親族の数", f"{a.dependents}人"))
    sheet.rows(deductions, label_w=60, caption="所得控除")
    if c.with_tax:
        tax = [
            ("課税標準額", _yen(a.taxable_income)),
            ("市町村民税", _yen(a.municipal_tax)),
            ("道府県民税", _yen(a.prefectural_tax)),
            ("年税額合計", _yen(a.municipal_tax + a.prefectural_tax)),
        ]
        if a.municipal_tax == 0:
            tax.append(("備考", "非課税"))
        sheet.rows(tax, label_w=60, caption="税額")


def _entry_text(member: RegisterMember) -> list[tuple[str, str]]:
    rows = []
    for e in member.entries:
        details = "　".join(f"【{k}】{v}" for k, v in e.details)
        rows.append((e.kind, details or wareki(e.on)))
    return rows


def _family(sheet: Sheet, c: FamilyRegisterCertificate) -> None:
    reg = c.register
    sheet.rows([("本籍", reg.domicile), ("氏名", reg.head_name)], label_w=32)
    made = f"【編製日】{wareki(reg.made_on)}　【編製事由】{reg.made_reason}"
    closed = f"　【除籍】{wareki(reg.closed_on)}　{reg.closed_reason}" if reg.closed_on else ""
    sheet.rows([("戸籍事項", made + closed)], label_w=32)
    family_name = reg.head_name.split("　", 1)[0]
    for m in c.members:
        if c.attachment:
            lines = [("氏名", f"{family_name}　{m.name}"), ("生年月日", wareki(m.birth_date))]
            for line in m.attachment:
                lines.append(("住所", line.address.text))
                lines.append(("住所を定めた年月日", wareki(line.set_on)))
            sheet.rows(lines, label_w=40, caption="除かれた者" if m.removed else None)
            continue
        person = [
            ("戸籍に記録されている者", f"【名】{m.name}"),
            ("", f"【生年月日】{wareki(m.birth_date)}"),
            ("", f"【父】{m.father or ''}　【母】{m.mother or ''}　【続柄】{m.relationship}"),
        ]
        sheet.rows(person + _entry_text(m), label_w=44, caption="除　籍" if m.removed else None)
    sheet.paragraph("以下余白")


def draw(sheet: Sheet, doc: Document) -> None:
    """Draw the body of ``doc``; the certification block is the renderer's."""
    c = doc.content
    if isinstance(c, ResidenceCertificate):
        _residence(sheet, c)
    elif isinstance(c, SealCertificate):
        _seal(sheet, c)
    elif isinstance(c, TaxCertificate):
        _tax(sheet, c)
    else:
        _family(sheet, c)
