"""The sheet as a web page (jinja2, autoescaped): the figures, sentences and graphs of the PDF."""

from __future__ import annotations

import base64
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

__all__ = ["render_html"]


_TEXTS = [
    ("purpose", "目的"),
    ("target", "対象"),
    ("intent", "意図"),
    ("means", "手段"),
    ("outcome", "成果"),
    ("summary", "事業概要"),
    ("main_tasks", "本事業の主な業務"),
    ("efficiency_reason", "効率性の評価理由"),
    ("head_explanation", "所属長評価"),
    ("factor_analysis", "要因分析"),
    ("overall", "総合評価"),
    ("improvement_next", "改善・改革案"),
]
_COSTS = [
    ("COST-01", "事業費"),
    ("COST-02", "国支出金"),
    ("COST-03", "県支出金"),
    ("COST-04", "地方債"),
    ("COST-05", "他特定財源"),
    ("COST-06", "一般財源"),
    ("COST-07", "従事職員数（人）"),
    ("COST-08", "人件費相当試算"),
    ("COST-09", "総事業費試算"),
]
_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_template = _env.from_string(
    (resources.files("kofu.evaluation.adapters") / "sheet.html.j2").read_text(encoding="utf-8")
)


def render_html(s: dict[str, Any], graphs: dict[str, bytes]) -> str:
    """The sheet as one self-contained HTML page (graphs inline)."""
    fukaya = s["template"] == "fukaya"
    title = (
        "事務事業評価表"
        if fukaya
        else f"平成 {s['fiscal_year'] - 1988} 年度 事務事業評価シート 【事後評価】"
    )
    return _template.render(
        s=s,
        title=title,
        code_label="管理番号" if fukaya else "事業コード",
        texts=_TEXTS,
        cost_rows=_COSTS,
        stages={"settled": "決算額", "budget": "予算（現額）", "plan": "年度別計画"},
        graphs={k: base64.b64encode(v).decode() for k, v in graphs.items()},
    )
