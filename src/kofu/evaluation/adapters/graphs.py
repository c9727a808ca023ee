"""The sheets' graphs (EVALUATION.md §3.4), drawn with matplotlib in the embedded IPAex Gothic.

Each graph is a PNG; era labels on the x axis, the unit on the y axis,
targets as markers, years without a value left out rather than drawn as 0.
"""

from __future__ import annotations

import io
from functools import cache
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager
from matplotlib import pyplot as plt

from kofu.documents.fonts import GOTHIC, font_path

__all__ = ["sheet_graphs"]


@cache
def _font() -> str:
    """Register IPAex Gothic with matplotlib once; every glyph of the sheets is in it."""
    path = font_path(GOTHIC)
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.family"] = name
    plt.rcParams["axes.unicode_minus"] = False
    return name


def _png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def _number(value: Any) -> float | None:
    if value is None or value in ("", "-", "※"):  # blank, not applicable, not computed
        return None
    return float(str(value).replace(",", "").replace("△ ", "-"))


def indicator_graph(row: dict[str, Any], years: list[dict[str, Any]]) -> bytes:
    """One indicator over the table's years: 実績 bars, 目標/計画 as markers or bars beside them.

    A cumulative count is labelled with each year's increase (+19,637 / +23.5％);
    a plan (計画) is drawn as a bar beside the actual with the attainment rate.
    """
    _font()
    fig, ax = plt.subplots(figsize=(6.2, 2.3))
    labels = [y["label"] for y in years]
    actual = [_number(row["actual"].get(str(y["fy"]))) for y in years]
    target = [_number(row["target"].get(str(y["fy"]))) for y in years]
    xs = list(range(len(labels)))
    plan = row["target_word"] == "計画"
    width = 0.38 if plan else 0.7
    shift = width / 2 if plan else 0.0
    bars = [(x, v) for x, v in zip(xs, actual, strict=True) if v is not None]
    percent = row["unit"] == "%"
    if bars:
        drawn = ax.bar(
            [b[0] + shift for b in bars],
            [b[1] for b in bars],
            width,
            color="#4a78b5",
            label="実績値",
        )
        ax.bar_label(
            drawn, labels=[f"{b[1]:,.1f}" if percent else f"{b[1]:,.0f}" for b in bars], fontsize=7
        )
    marks = [(x, v) for x, v in zip(xs, target, strict=True) if v is not None]
    if marks and plan:
        drawn = ax.bar(
            [m[0] - shift for m in marks],
            [m[1] for m in marks],
            width,
            color="#bdc3c7",
            label="計画値",
        )
        ax.bar_label(drawn, labels=[f"{m[1]:,.0f}" for m in marks], fontsize=7)
        for x, v in marks:
            done = actual[x]
            if done is not None and v:
                ax.annotate(
                    f"達成率 {_half_up(done / v * 100)}％",
                    (x, max(v, done)),
                    textcoords="offset points",
                    xytext=(0, 10),
                    ha="center",
                    fontsize=7,
                )
    elif marks:
        ax.plot(
            [m[0] for m in marks],
            [m[1] for m in marks],
            "D",
            color="#c0392b",
            label=f"{row['target_word']}値",
        )
    if row["id"] == "IND-01":
        _increments(ax, bars)
    ax.set_xticks(xs, labels, fontsize=7)
    ax.set_ylim(bottom=0, top=_top(bars, marks))
    ax.set_ylabel(f"（{row['unit']}）", fontsize=7)
    ax.set_title(f"{row['slot']}　{row['name']}", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if not percent:
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if bars or marks:
        ax.legend(fontsize=7, loc="upper right")
    return _png(fig)


def _top(bars: list[tuple[int, float]], marks: list[tuple[int, float]]) -> float:
    highest = max([v for _, v in bars + marks] or [1.0])
    return highest * 1.35 if highest > 0 else 1.0


def _half_up(value: float) -> str:
    from decimal import ROUND_HALF_UP, Decimal

    return str(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _increments(ax: Any, bars: list[tuple[int, float]]) -> None:
    """Each year's increase over the year before, written between the two bars."""
    for (x0, v0), (x1, v1) in pairwise(bars):
        if v0:
            sign = "+" if v1 >= v0 else "−"
            text = f"{sign}{abs(v1 - v0):,.0f}\n（{sign}{_half_up(abs(v1 - v0) / v0 * 100)}％）"
            ax.annotate(
                text, ((x0 + x1) / 2, max(v0, v1) * 1.02), ha="center", fontsize=6, color="#1e8449"
            )


def cost_graph(sheet: dict[str, Any]) -> bytes:
    """Cost composition per year: 事業費 by funding source, stacked with 人件費相当試算."""
    _font()
    fig, ax = plt.subplots(figsize=(6.2, 2.3))
    years = sheet["cost_years"]
    labels = [f"{y['label']}\n{_STAGE[y['stage']]}" for y in years]
    figures = sheet["figures"]
    unit = 1 if sheet["money_unit"] == "yen" else 1000
    bottom = [0.0] * len(years)
    parts = [
        ("COST-06", "一般財源", "#7f8c8d"),
        ("COST-02", "国支出金", "#2e86c1"),
        ("COST-03", "県支出金", "#28b463"),
        ("COST-04", "地方債", "#af7ac5"),
        ("COST-05", "他特定財源", "#f5b041"),
        ("COST-08", "人件費相当試算", "#c0392b"),
    ]
    for key, name, colour in parts:
        values = [float(figures[key].get(str(y["fy"])) or 0) / unit for y in years]
        if any(values):
            ax.bar(range(len(years)), values, bottom=bottom, label=name, color=colour)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(years)), labels, fontsize=7)
    ax.set_ylim(bottom=0, top=max(bottom or [1.0]) * 1.25 or 1.0)
    ax.set_ylabel("（円）" if unit == 1 else "（千円）", fontsize=7)
    ax.set_title("事業費の財源内訳と人件費相当試算", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if any(bottom):
        ax.legend(fontsize=6, loc="upper right")
    return _png(fig)


def fte_graph(sheet: dict[str, Any]) -> bytes | None:
    """従事職員数 per cost year, small and on its own (EVALUATION.md §3.4: no second axis)."""
    years = sheet["cost_years"]
    values = [_number(sheet["figures"]["COST-07"].get(str(y["fy"]))) for y in years]
    bars = [(x, v) for x, v in enumerate(values) if v is not None]
    if not bars:
        return None
    _font()
    fig, ax = plt.subplots(figsize=(3.6, 1.7))
    drawn = ax.bar([b[0] for b in bars], [b[1] for b in bars], 0.55, color="#7d3c98")
    ax.bar_label(drawn, labels=[f"{b[1]:.2f}" for b in bars], fontsize=7)
    ax.set_xticks(
        range(len(years)), [f"{y['label']}\n{_STAGE[y['stage']]}" for y in years], fontsize=6
    )
    ax.set_ylim(bottom=0, top=max(b[1] for b in bars) * 1.3 or 1.0)
    ax.set_ylabel("（人）", fontsize=7)
    ax.set_title("従事職員数", fontsize=8)
    ax.tick_params(axis="y", labelsize=6)
    return _png(fig)


def lines_graph(sheet: dict[str, Any]) -> bytes | None:
    """Budget breakdown of the evaluated year by 節 and item (Hanamaki II)."""
    lines = sheet["cost_lines"]
    if not lines:
        return None
    _font()
    fig, ax = plt.subplots(figsize=(6.2, 0.5 + 0.35 * len(lines)))
    names = [f"{x['setsu']}節 {x['item']}" for x in lines]
    values = [x["yen"] / 1000 for x in lines]
    drawn = ax.barh(range(len(lines)), values, color="#4a78b5")
    ax.bar_label(drawn, labels=[f"{v:,.0f}千円" for v in values], fontsize=7)
    ax.set_yticks(range(len(lines)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_title(f"事業費の内訳（{sheet['fiscal_year'] - 1988}年度 決算）", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)


_STAGE = {"settled": "決算", "budget": "予算現額", "plan": "計画"}


def sheet_graphs(sheet: dict[str, Any]) -> dict[str, bytes]:
    """Every graph of the sheet, by name (one per indicator, cost composition, FTE, lines)."""
    years = sheet["table_years"]
    if sheet["template"] == "hanamaki":
        years = [*years[:2], {"fy": years[2]["fy"], "label": f"{years[2]['label']}(計画)"}]
    out = {
        f"indicator-{i}": indicator_graph(row, years) for i, row in enumerate(sheet["indicators"])
    }
    out["cost"] = cost_graph(sheet)
    fte = fte_graph(sheet)
    if fte is not None:
        out["fte"] = fte
    lines = lines_graph(sheet)
    if lines is not None:
        out["lines"] = lines
    return out
