"""A programme's configuration (C) and its staff texts (N), as a planning clerk edits them in TOML.

Texts are kept per fiscal year (``[texts.2023]``); a year without its own
texts carries over the latest earlier year's, and the sheet says so.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kofu.evaluation.domain.indicators import CATALOGUE

__all__ = ["IndicatorSlot", "PlanLevel", "Programme", "Texts"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanLevel(_Model):
    """One level of the comprehensive plan (総合計画): 大項目 6 みんなで創る協働のまち."""

    label: str
    number: str = ""
    name: str = ""


class IndicatorSlot(_Model):
    """Where an indicator sits on the sheet (活動指標１, 成果指標①) and what a clerk set for it."""

    slot: str
    id: str
    name: str
    short_name: str = ""
    unit: str = "件"
    targets: dict[int, Decimal] = Field(default_factory=dict)  # 目標値 / 計画 per fiscal year
    target_word: Literal["目標", "計画"] = "目標"
    no_target: bool = False  # 「目標値は設定できない」 by design
    lower_is_better: bool = False
    target_rationale: str = ""
    source: str = ""  # 実績値の出所; the kofu event type when empty
    formula: str = ""  # 実績値の算出式; the catalogue's definition when empty
    live_from: date | None = None  # before this day's fiscal year the value is 「-」
    decimals: int = 0


class Programme(_Model):
    """One programme of one city, as its evaluation sheet needs it."""

    city: str
    programme: str
    template: Literal["fukaya", "hanamaki"]
    name: str
    money_unit: Literal["yen", "thousand_yen"] = "yen"
    division: str = ""
    section: str = ""
    account: dict[str, str] = Field(default_factory=dict)  # 会計・款・項・目
    plan_levels: list[PlanLevel] = Field(default_factory=list)
    plan_end: int | None = None  # the last fiscal year of the plan (令和9年度)
    card_since: date = date(2016, 1, 1)
    card_kinds: list[str] = Field(default_factory=list)
    store_types: list[str] = Field(
        default_factory=lambda: [
            "juminhyo",
            "inkan",
            "kazei",
            "shotoku",
            "koseki-zenbu",
            "koseki-kojin",
            "fuhyo",
        ]
    )
    standard_hours_per_fte: Decimal = Decimal(1860)
    average_personnel_cost: dict[int, Decimal] = Field(default_factory=dict)  # yen per FTE
    fte: dict[int, Decimal] = Field(default_factory=dict)  # overrides (budget and plan years)
    store_commission_yen: Decimal = Decimal(0)
    # OPT-08's denominator: 住民基本台帳人口 on 31 March of the fiscal year, as published,
    # for years before kofu kept the register (``register_since``); later years count it
    population: dict[int, int] = Field(default_factory=dict)
    register_since: date | None = None  # the day the city's register moved into kofu
    unit_cost_of: str = ""  # OPT-12's activity indicator; the sheet's 活動指標１ when empty
    thresholds: dict[str, Decimal] = Field(
        default_factory=lambda: {"a": Decimal(100), "b": Decimal(80), "band": Decimal(5)}
    )
    evaluators: dict[str, str] = Field(default_factory=dict)
    indicators: list[IndicatorSlot] = Field(default_factory=list)
    texts: dict[int, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("unit_cost_of")
    @classmethod
    def _a_count(cls, v: str) -> str:
        if v and (v not in CATALOGUE or CATALOGUE[v].kind != "flow"):
            raise ValueError("unit_cost_of is a yearly count's ID, e.g. IND-02 or OPT-03")
        return v

    @field_validator("city")
    @classmethod
    def _six_digits(cls, v: str) -> str:
        if not (len(v) == 6 and v.isdigit()):
            raise ValueError("city is a 6-digit local government code")
        return v

    def texts_for(self, fiscal_year: int) -> Texts:
        """The year's staff texts, or the latest earlier year's carried over."""
        years = sorted(y for y in self.texts if y <= fiscal_year)
        if not years:
            return Texts({}, None)
        chosen = years[-1]
        return Texts(dict(self.texts[chosen]), None if chosen == fiscal_year else chosen)


class Texts:
    """Staff texts for a fiscal year; ``carried_from`` names the year they were copied from."""

    def __init__(self, values: dict[str, Any], carried_from: int | None) -> None:
        self.values = values
        self.carried_from = carried_from

    def get(self, key: str, default: str = "") -> str:
        value = self.values.get(key, default)
        return "\n".join(value) if isinstance(value, list) else str(value)

    def items(self, key: str) -> list[str]:
        value = self.values.get(key, [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
