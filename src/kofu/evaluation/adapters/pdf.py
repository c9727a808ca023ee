"""The sheets as A4 PDFs (reportlab, IPAex embedded): Fukaya's 評価表 and Hanamaki's 評価シート.

Every cell is drawn by ``Grid.cell``: a number that is too wide shrinks
its font until it fits (never ``####``), a text wraps and then shrinks.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts
from kofu.evaluation.domain.indicators import half_up

__all__ = ["render_pdf"]

LEFT, TOP, WIDTH = 10 * mm, A4[1] - 10 * mm, A4[0] - 20 * mm
_STAGE = {"settled": "決算額", "budget": "予算（現額）", "plan": "年度別計画"}


class Grid:
    """A page being drawn top-down: a cursor and cells that always fit what they hold."""

    def __init__(self, canvas: Canvas, face: str) -> None:
        self.c, self.face, self.y = canvas, face, TOP
        self.scale = 1.0  # row heights, so that a page's rows fit it

    def cell(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        *,
        size: float = 7.5,
        align: str = "left",
        shade: bool = False,
        border: bool = True,
    ) -> None:
        c = self.c
        if shade:
            c.setFillGray(0.9)
            c.rect(x, y - h, w, h, stroke=0, fill=1)
            c.setFillGray(0)
        if border:
            c.setLineWidth(0.5)
            c.rect(x, y - h, w, h)
        if text:
            self._text(x, y, w, h, text, size, align)

    def _text(
        self, x: float, y: float, w: float, h: float, text: str, size: float, align: str
    ) -> None:
        pad = 1.2 * mm
        while True:
            # a number (right-aligned) stays on one line and shrinks; words wrap, then shrink
            lines = [text] if align == "right" else _wrap(text, self.face, size, w - 2 * pad)
            if (
                len(lines) * size * 1.25 <= h - 1
                and all(stringWidth(line, self.face, size) <= w - 2 * pad for line in lines)
            ) or size <= 3:
                break
            size -= 0.25
        self.c.setFont(self.face, size)
        top = y - (h - len(lines) * size * 1.25) / 2 - size
        for i, line in enumerate(lines):
            ty = top - i * size * 1.25 + size * 0.2
            if align == "right":
                self.c.drawRightString(x + w - pad, ty, line)
            elif align == "center":
                self.c.drawCentredString(x + w / 2, ty, line)
            else:
                self.c.drawString(x + pad, ty, line)

    def row(
        self,
        widths: Sequence[float],
        texts: Sequence[str],
        h: float,
        *,
        shade: Sequence[int] = (),
        align: Sequence[str] = (),
        size: float = 7.5,
    ) -> None:
        x = LEFT
        h *= self.scale
        for i, (w, text) in enumerate(zip(widths, texts, strict=True)):
            a = align[i] if i < len(align) else "left"
            self.cell(x, self.y, w * mm, h * mm, text, shade=i in shade, align=a, size=size)
            x += w * mm
        self.y -= h * mm

    def spanning(
        self,
        widths: Sequence[float],
        left: int,
        merged: Sequence[str],
        rows: Sequence[Sequence[str]],
        h: float,
    ) -> None:
        """Rows whose first ``left`` cells are one cell across all of them (区分, 指標名, 単位)."""
        total = h * self.scale * mm * len(rows)
        x = LEFT
        for i, (w, text) in enumerate(zip(widths[:left], merged, strict=True)):
            self.cell(x, self.y, w * mm, total, text, shade=i == 0)
            x += w * mm
        for cells in rows:
            x0 = x
            for i, (w, text) in enumerate(zip(widths[left:], cells, strict=True)):
                self.cell(
                    x0,
                    self.y,
                    w * mm,
                    h * self.scale * mm,
                    text,
                    shade=i == 0,
                    align="left" if i == 0 else "right",
                )
                x0 += w * mm
            self.y -= h * self.scale * mm

    def heading(self, text: str, size: float = 9) -> None:
        self.y -= 1.5 * mm
        self.c.setFont(self.face, size)
        self.c.drawString(LEFT, self.y - size, text)
        self.y -= size + 1.5 * mm

    def title(self, text: str, size: float = 14) -> None:
        self.c.setFont(self.face, size)
        self.c.drawCentredString(A4[0] / 2, self.y - size, text)
        self.y -= size + 3 * mm

    def note(self, text: str, size: float = 6.5) -> None:
        self.c.setFont(self.face, size)
        self.c.drawString(LEFT, self.y - size, text)
        self.y -= size + 1.5 * mm

    def image(self, png: bytes, x: float, w: float) -> float:
        reader = ImageReader(io.BytesIO(png))
        iw, ih = reader.getSize()
        h = w * ih / iw
        self.c.drawImage(reader, x, self.y - h, w, h)
        return float(h)


def _wrap(text: str, face: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and stringWidth(line + ch, face, size) > width:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def _box(on: bool) -> str:
    return "■" if on else "□"


def _fukaya_header(g: Grid, s: dict[str, Any]) -> None:
    g.row([22, 108, 22, 38], ["事務事業", s["name"], "管理番号", s["programme"]], 8, shade=[0, 2])
    g.row(
        [22, 40, 22, 30, 22, 54],
        ["担当課", s["division"], "担当係", s["section"], "作成日", s["prepared_label"]],
        6,
        shade=[0, 2, 4],
    )


def _fukaya_page1(g: Grid, s: dict[str, Any], t: dict[str, Any], _: dict[str, bytes]) -> None:
    g.scale = 0.8
    g.title("事務事業評価表")
    _fukaya_header(g, s)
    g.heading("１．基本事項")
    levels = {lv["label"]: lv for lv in s["plan_levels"]}
    for label in ("大項目", "中項目", "小項目"):
        lv = levels.get(label, {"number": "", "name": ""})
        g.row(
            [22, 22, 12, 134],
            ["総合計画" if label == "大項目" else "", label, lv["number"], lv["name"]],
            5.5,
            shade=[0, 1],
        )
    g.row([44, 146], ["主要プロジェクト", t.get("major_project", "")], 5.5, shade=[0])
    g.row([44, 146], ["個別計画等", t.get("individual_plans", "")], 5.5, shade=[0])
    g.row([44, 146], ["根拠法令", t.get("legal_basis", "")], 5.5, shade=[0])
    category = t.get("category", "自治事務")
    g.row(
        [44, 146],
        [
            "事業区分",
            f"{_box(category == '自治事務')}自治事務　"
            f"{_box(category == '法定受託事務')}法定受託事務",
        ],
        5.5,
        shade=[0],
    )
    delivery = t.get("delivery", ["職員"])
    options = ["職員", "一部委託", "全部委託", "指定管理", "市民ボランティア", "NPO等", "その他( )"]
    g.row(
        [44, 146],
        ["執行体制", " ".join(f"{_box(o in delivery)}{o}" for o in options)],
        5.5,
        shade=[0],
    )
    for key, label, h in (
        ("purpose", "目的 ※何のために", 7),
        ("target", "対象 ※誰・何を対象に", 7),
        ("means", "手段 ※どのように", 7),
        ("outcome", "成果 ※何を求めるか", 7),
        ("summary", "事業概要", 14),
    ):
        g.row([44, 146], [label, _text(t.get(key, ""))], h, shade=[0])
    tasks = t.get("main_tasks", [])
    g.row(
        [44, 146],
        ["本事業の主な業務", "\n".join(tasks) if isinstance(tasks, list) else tasks],
        max(7, 3.6 * len(tasks)),
        shade=[0],
    )
    subs = t.get("budget_subprojects", [])
    g.row([44, 146], ["事務事業を構成する予算事業　細事業名", "\n".join(subs)], 7, shade=[0])
    g.heading("２．事業費（投入コスト）　　　　　　　　　　　　　　　　　　　　　　　　　単位：円")
    years = s["table_years"]
    costs = {c["fiscal_year"]: c for c in s["costs"]}
    widths = [16, 28] + [146 / len(years)] * len(years)
    g.row(
        widths,
        ["区分", ""] + [y["label"] for y in years],
        5.5,
        shade=list(range(len(widths))),
        align=["center"] * len(widths),
    )
    g.row(
        widths,
        ["", ""] + [_STAGE[costs[y["fy"]]["stage"]] if y["fy"] in costs else "" for y in years],
        5,
        shade=[0, 1],
        align=["center"] * len(widths),
    )
    rows = [
        ("事業費", "", "COST-01"),
        ("財源内訳", "国支出金", "COST-02"),
        ("", "県支出金", "COST-03"),
        ("", "地方債", "COST-04"),
        ("", "他特定財源", "COST-05"),
        ("", "一般財源", "COST-06"),
        ("人件費", "従事職員数（人）", "COST-07"),
        ("", "人件費相当試算※", "COST-08"),
        ("総事業費試算", "", "COST-09"),
    ]
    for a, b, key in rows:
        values = [costs[y["fy"]][key] if y["fy"] in costs else "" for y in years]
        g.row(widths, [a, b, *values], 5.5, shade=[0, 1], align=["left", "left"] + ["right"] * 6)
    g.note("※ 人件費相当額試算は、従事職員数に平均人件費を用いて試算したものです。")
    g.heading("３．評価指標")
    widths = [16, 46, 9, 16] + [103 / len(years)] * len(years)
    g.row(
        widths,
        ["区分", "指標名", "単位", ""] + [y["label"] for y in years],
        5.5,
        shade=list(range(len(widths))),
        align=["center"] * len(widths),
    )
    for row in s["indicators"]:
        target = [row["target"].get(str(y["fy"]), "") for y in years]
        actual = [row["actual"].get(str(y["fy"]), "") for y in years]
        g.spanning(
            widths,
            3,
            [row["slot"], row["name"], row["unit"]],
            [["目標値", *target], ["実績値", *actual]],
            5.5,
        )
        g.row([62, 128], ["実績値の算出式", row["formula"] + _why_not(row)], 5, shade=[0])
        g.row(
            [62, 128],
            ["目標値の算定根拠/実績値の出所", f"{row['rationale']}　/　{row['source']}"],
            6,
            shade=[0],
        )


def _why_not(row: dict[str, Any]) -> str:
    """「※ 2023: …」 for each year whose value could not be computed (a missing input)."""
    return "".join(f"　※ {fy}: {why}" for fy, why in row.get("not_computed", {}).items())


def _text(value: Any) -> str:
    return "\n".join(value) if isinstance(value, list) else str(value or "")


def _fukaya_page2(g: Grid, s: dict[str, Any], t: dict[str, Any], graphs: dict[str, bytes]) -> None:
    _fukaya_header(g, s)
    g.heading("４．観点別評価")
    g.note(
        "観点別評価は、指標達成の有無の他、その達成率も勘案して総合的に評価します。"
        "目標値の設定がないものについても、進捗状況等を踏まえA～Cの三段階にて評価します。"
    )
    g.note(
        "（１）事業達成度評価　（評価基準）"
        "（A:達成している　B:おおむね達成している　C:達成していない）"
    )
    sentences, drafted = s["sentences"], s["drafted"]
    outcome_grade = t.get("outcome_grade") or drafted.get("outcome_grade", "")
    outcome_reason = t.get("outcome_reason") or sentences.get("outcome_reason", "")
    g.row(
        [14, 56, 12, 108],
        ["区分", "評価の観点", "評価", "評価理由"],
        5,
        shade=[0, 1, 2, 3],
        align=["center"] * 4,
    )
    g.row(
        [14, 56, 12, 108],
        [
            "成果",
            "・意図した成果が上がっているか。\n・指標未達成の場合は、その原因を分析できているか。",
            outcome_grade,
            outcome_reason,
        ],
        11,
        shade=[0],
        align=["center", "left", "center"],
    )
    trend = "（評価理由・指標数値の推移）\n" + sentences.get("activity_trend", "")
    g.row(
        [14, 56, 12, 108],
        [
            "活動",
            "・活動実績は、見込みに沿い、かつ投入資源に見合っているか。",
            t.get("activity_grade", ""),
            trend,
        ],
        14,
        shade=[0],
        align=["center", "left", "center"],
    )
    g.note(f"評価者　{s['evaluators'].get('section_chief', '')}")
    g.note("（２）事業効率性評価　（評価基準）（A:効率的である　B:高める余地あり　C:効率的でない）")
    g.row(
        [14, 56, 12, 108],
        [
            "効率性",
            "・ICTの活用や業務改善が充分か。※検証必須\n・コスト面など効率的に"
            "執行できているか。\n・民間委託や他事業との統合・連携が可能か。",
            t.get("efficiency_grade", ""),
            t.get("efficiency_reason", ""),
        ],
        13,
        shade=[0],
        align=["center", "left", "center"],
    )
    g.note(f"評価者　{s['evaluators'].get('section_chief', '')}")
    g.heading("５．前年度改善改革プラン達成状況")
    era_prev = s["table_years"][0]["label"]
    g.row(
        [44, 146],
        [
            f"{era_prev}の評価を受けて設定した改善・改革案",
            s["previous_plan"] or t.get("previous_plan", ""),
        ],
        9,
        shade=[0],
    )
    g.row([44, 146], ["達成状況及びその効果", t.get("previous_result", "")], 12, shade=[0])
    g.heading("６．所属長評価（今後の方向性）")
    choice = str(t.get("direction", ""))
    mains = [
        "①拡充,重点化(コスト投入)",
        "②現状のまま継続",
        "③見直して継続",
        "④目的達成による終了",
        "⑤廃止を検討",
    ]
    subs = [
        "委託化等の検討",
        "成果向上のための改善",
        "効率化のための改善",
        "事業規模の縮小",
        "他の事務事業と統合",
    ]
    ticked = t.get("direction_sub", [])
    left = "\n".join(f"{_box(m[0] == choice[:1] if choice else False)} {m}" for m in mains)
    right = "\n".join(f"{_box(x in ticked)}{x}" for x in subs)
    g.row([48, 42, 100], [left, right, "評価の内容説明\n" + t.get("head_explanation", "")], 20)
    g.note(f"評価者　{s['evaluators'].get('head', '')}")
    g.heading("７．改善改革プラン・今後の課題")
    this, nxt = s["table_years"][2]["label"], s["table_years"][3]["label"]
    g.row([44, 146], [f"{this}に実施する改善・改革案", t.get("improvement_next", "")], 9, shade=[0])
    g.row(
        [44, 146],
        ["上記を実施するための具体的な取組内容は？", t.get("concrete_actions", "")],
        6,
        shade=[0],
    )
    g.row(
        [44, 146],
        [f"{nxt}以降に取り組む改善・改革案・今後の課題", t.get("improvement_later", "")],
        8,
        shade=[0],
    )
    g.heading("８．評価指標グラフ")
    _graph_grid(g, graphs)


def _graph_grid(g: Grid, graphs: dict[str, bytes]) -> None:
    """Two graphs a row; the small FTE chart shares the cost graph's cell (no second axis)."""
    cells = [[k] for k in graphs if k.startswith("indicator-")]
    cells.append(["cost", "fte"] if "fte" in graphs else ["cost"])
    w = WIDTH / 2 - 1 * mm
    for i in range(0, len(cells), 2):
        heights = []
        for j, names in enumerate(cells[i : i + 2]):
            x = LEFT + j * (w + 2 * mm)
            shares = (1.0,) if len(names) == 1 else (0.64, 0.36)
            for name, share in zip(names, shares, strict=True):
                heights.append(g.image(graphs[name], x, w * share))
                x += w * share
        g.y -= max(heights) + 1 * mm


def _hanamaki_header(g: Grid, s: dict[str, Any], title: str) -> None:
    era_year = s["fiscal_year"] - 1988
    g.title(f"平成 {era_year} 年度 {title} 【 事後評価 】", 12)
    g.note(
        "※色付きのセルのみ入力してください。また、行・列の挿入や削除は絶対に行わないでください。"
    )
    a = s["account"]
    g.row(
        [16, 12, 12, 12, 24, 114],
        ["会計", "款", "項", "目", "事業コード", "事業名"],
        5,
        shade=range(6),
        align=["center"] * 6,
    )
    g.row(
        [16, 12, 12, 12, 24, 114],
        [
            a.get("会計", ""),
            a.get("款", ""),
            a.get("項", ""),
            a.get("目", ""),
            s["programme"],
            s["name"],
        ],
        6,
        align=["center"] * 5,
    )


def _hanamaki_indicator_block(g: Grid, s: dict[str, Any], outcome: bool) -> None:
    years = s["table_years"]
    heads = [
        f"{years[0]['label']}(実績)",
        f"{years[1]['label']}(実績)",
        f"{years[2]['label']}(計画)",
    ]
    title = "成果指標（上記「意図」に対応）" if outcome else "活動指標（上記「事業概要」に対応）"
    widths = [8, 88, 12, 14, 22, 22, 24]
    g.row(widths, ["", title, "単位", "区分", *heads], 5, shade=range(7), align=["center"] * 7)
    mine = [r for r in s["indicators"] if r["slot"].startswith("成果" if outcome else "活動")]
    for i in range(3):
        row = mine[i] if i < len(mine) else None
        mark = "①②③"[i]
        word = row["target_word"] if row else ("目標" if outcome else "計画")
        t = [row["target"].get(str(y["fy"]), "") if row else "" for y in years[:2]]
        a = [row["actual"].get(str(y["fy"]), "") if row else "" for y in years[:2]]
        g.row(
            widths,
            [mark, row["name"] if row else "", row["unit"] if row else "", word, *t, "/"],
            5,
            align=["center", "left", "center", "center", "right", "right", "center"],
        )
        g.row(
            widths,
            ["", "", "", "実績", *a, ""],
            5,
            align=["center", "left", "center", "center", "right", "right", "right"],
        )
    for row in mine:
        if row.get("not_computed"):
            g.note(f"{row['name']}{_why_not(row)}")


def _hanamaki_page1(g: Grid, s: dict[str, Any], t: dict[str, Any], _: dict[str, bytes]) -> None:
    _hanamaki_header(g, s, "事務事業評価シート")
    levels = s["plan_levels"]
    for i, lv in enumerate(levels):
        g.row(
            [22, 20, 14, 134],
            ["総合計画" if i == 0 else "", lv["label"], lv["number"], lv["name"]],
            5,
            shade=[0, 1],
        )
    for key, label, h in (("purpose", "目的", 5), ("target", "対象", 5), ("intent", "意図", 7)):
        g.row([42, 148], [label, t.get(key, "")], h, shade=[0])
    summary = t.get("summary", "") + "\n" + "\n".join(t.get("summary_bullets", []))
    g.row(
        [42, 148],
        ["事業概要\n…上記目的を実現するための事業手法を記載すること", summary],
        24,
        shade=[0],
    )
    g.row([42, 148], ["市民参画の有無", t.get("participation", "[対象外]")], 5, shade=[0])
    forms = ["共催", "実行委員会・協議会", "後援・協賛", "補助・助成", "事業協力・協定", "委託"]
    chosen = t.get("collaboration", [])
    g.row(
        [42, 148],
        ["市民協働の形態", "　".join(f"{'○' if f in chosen else '　'}{f}" for f in forms)],
        5,
        shade=[0],
    )
    g.y -= 1 * mm
    _hanamaki_indicator_block(g, s, outcome=False)
    g.y -= 1 * mm
    _hanamaki_indicator_block(g, s, outcome=True)
    word = t.get("attainment") or s["drafted"].get("attainment", "")
    opts = ["目標値より高い", "概ね目標値どおり", "目標値より低い"]
    g.row(
        [42, 148],
        ["成果指標の達成度", "　　".join(f"{'○' if o == word else '　'} {o}" for o in opts)],
        5,
        shade=[0],
    )
    g.row(
        [42, 148],
        [
            "成果指標の達成度の要因分析\n(新規事業及び成果指標を変更した場合は、その成果指標を"
            "設定した考え方、目標値の根拠を記載)",
            t.get("factor_analysis", ""),
        ],
        14,
        shade=[0],
    )
    views = (
        (
            "目的妥当性",
            "公共関与の妥当性",
            "validity",
            ["妥当である", "見直し余地がある", "妥当でない"],
        ),
        ("有効性", "成果の向上余地", "effectiveness", ["向上余地がある", "向上余地がない"]),
        (
            "効率性",
            "事業費・人件費の削減余地",
            "efficiency",
            ["事業費の削減余地がある", "人件費の削減余地がある", "どちらも削減余地がない"],
        ),
        (
            "公平性",
            "受益と負担の適正化余地",
            "fairness",
            ["受益機会の見直し余地がある", "費用負担の見直し余地がある", "適正である"],
        ),
    )
    for name, question, key, options in views:
        picked = t.get(f"{key}_choice", "")
        marks = "\n".join(f"{'○' if o == picked else '　'} {o}" for o in options)
        g.row(
            [18, 30, 96, 46], [name, question, t.get(f"{key}_reason", ""), marks], 13, shade=[0, 1]
        )
    g.row([42, 148], ["総合評価\n…上記評価結果の総括", t.get("overall", "")], 9, shade=[0])


def _hanamaki_page2(
    g: Grid, s: dict[str, Any], t: dict[str, Any], graphs: dict[str, bytes]
) -> None:
    _hanamaki_header(g, s, "事業説明資料")
    g.note("単位：千円")
    years = s["cost_years"]
    costs = s["costs"]
    heads = [
        f"{years[0]['label']} 決算額(A)",
        f"{years[1]['label']} 決算額(B)",
        f"{years[2]['label']} 現計予算額",
        "決算額前年比 (B-A)",
    ]
    widths = [16, 26, 37, 37, 37, 37]
    g.row(widths, ["", "", *heads], 6, shade=range(6), align=["center"] * 6)
    for a, b, key in (
        ("事業費", "", "COST-01"),
        ("財源内訳", "国・県", "COST-02"),
        ("", "地方債", "COST-04"),
        ("", "その他", "COST-05"),
        ("", "一般財源", "COST-06"),
    ):
        vals = [c[key] for c in costs]
        if key == "COST-02":  # Hanamaki prints 国・県 together
            vals = [_sum_money(c["COST-02"], c["COST-03"]) for c in costs]
        delta = s["cost_delta"][key]
        g.row(
            widths, [a, b, *vals, delta], 5.5, shade=[0, 1], align=["left", "left"] + ["right"] * 4
        )
    g.y -= 1 * mm
    single = t.get("duration", "単年度繰返") == "単年度繰返"
    g.row(
        [42, 148],
        [
            "事業期間",
            f"{'○' if single else '　'} 単年度繰返　　{'　' if single else '○'} "
            f"期間限定 [平成 {t.get('period_from', ' ')} 年度 ～ "
            f"平成 {t.get('period_to', ' ')} 年度]",
        ],
        5.5,
        shade=[0],
    )
    for key, label, h in (
        ("dept_goal", "部重点施策における目標", 7),
        ("background", "事業開始の背景・経緯", 12),
        ("summary", "事業概要", 18),
        ("issues", "事業を展開する上での課題、留意事項 / 意見・要望等", 12),
    ):
        text = t.get(key, "")
        if key == "summary":
            text = "\n".join([text, *t.get("summary_bullets", [])])
        g.row([42, 148], [label, text], h, shade=[0])
    g.row(
        [16, 30, 16, 30, 20, 30, 16, 32],
        [
            "部名",
            t.get("department", ""),
            "課名",
            s["division"],
            "担当係長",
            t.get("chief", ""),
            "内線",
            t.get("extension", ""),
        ],
        5.5,
        shade=[0, 2, 4, 6],
    )
    g.heading("【事業手法の詳細】…概略図による事業手法の詳細と事業費の内訳を記載すること。", 8)
    for i, text in enumerate(t.get("method_i", [])):
        g.row([10, 180], [f"I-{i + 1}", text], 12, shade=[0])
    total = s["costs"][1]["COST-01"]
    lines = "\n".join(
        f"{x['setsu']}節 {x['setsu_name']}　{x['item']} {_thousand(x['yen'])}千円"
        for x in s["cost_lines"]
    )
    g.row(
        [10, 180],
        ["II", f"{t.get('cost_title', '事業費')} {total}千円\n内訳\n{lines}"],
        6 + 3.4 * len(s["cost_lines"]),
        shade=[0],
    )
    if "lines" in graphs:
        g.y -= 1 * mm
        g.y -= g.image(graphs["lines"], LEFT + 20 * mm, WIDTH - 40 * mm)


def _hanamaki_page3(
    g: Grid, s: dict[str, Any], t: dict[str, Any], graphs: dict[str, bytes]
) -> None:
    _hanamaki_header(g, s, "事業説明資料")
    g.note("(単位：千円)")
    g.row([10, 180], ["III", "\n".join(t.get("method_iii", []))], 20, shade=[0])
    g.row(
        [10, 180],
        ["IV", "コンビニ交付のしくみ\n" + "\n".join(t.get("method_iv", []))],
        34,
        shade=[0],
    )
    g.heading("評価指標グラフ", 8)
    _graph_grid(g, graphs)


def _sum_money(a: str, b: str) -> str:
    if not a and not b:
        return ""
    total = sum(int(x.replace(",", "")) for x in (a, b) if x and "△" not in x)
    return f"{total:,}"


def _thousand(yen: int) -> str:
    return f"{int(half_up(Decimal(yen) / 1000, 0)):,}"


def render_pdf(s: dict[str, Any], graphs: dict[str, bytes]) -> bytes:
    """The sheet as an A4 PDF with its fonts embedded."""
    mincho, gothic = register_fonts()
    del mincho
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, initialFontName=gothic, initialFontSize=8)
    canvas.setTitle(f"{s['name']} {s['fiscal_year']}")
    t = s["texts"]
    pages: list[Callable[[Grid, dict[str, Any], dict[str, Any], dict[str, bytes]], None]] = (
        [_fukaya_page1, _fukaya_page2]
        if s["template"] == "fukaya"
        else [_hanamaki_page1, _hanamaki_page2, _hanamaki_page3]
    )
    for i, page in enumerate(pages):
        g = Grid(canvas, gothic)
        page(g, s, t, graphs)
        canvas.setFont(gothic, 7)
        canvas.drawCentredString(A4[0] / 2, 6 * mm, f"{i + 1} / {len(pages)}")
        canvas.showPage()
    canvas.save()
    return out.getvalue()
