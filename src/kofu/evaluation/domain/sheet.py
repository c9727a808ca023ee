"""One evaluation sheet's data: every figure (E), setting (C) and staff text (N) it prints.

``build_sheet`` reads the log through the ``Facts`` port (daily tallies and
finance lines) and the programme's configuration, and returns plain data
that the renderers (PDF, HTML) and ``--json`` share, so the three always
print the same figures and sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from kofu.city.domain.activity import fy_bounds
from kofu.evaluation.domain.indicators import CATALOGUE, Pick, Scope, Tally, half_up, pct_change
from kofu.evaluation.domain.labels import fy_label, money, number, prepared_label
from kofu.evaluation.domain.programme import IndicatorSlot, Programme

__all__ = ["NOT_COMPUTED", "Facts", "FinanceLine", "IndicatorValue", "Valuer", "build_sheet"]

NOT_COMPUTED = "※"  # the cell of a value not computed; the row says why
FUNDING = ("national", "prefectural", "bond", "other_specific")
_FUNDING_IDS = dict(zip(FUNDING, ("COST-02", "COST-03", "COST-04", "COST-05"), strict=True))


@dataclass(frozen=True)
class FinanceLine:
    """A staff-recorded amount: an expense line (節) or a specific funding source."""

    fiscal_year: int
    stage: str  # settled (決算) / budget (予算現額) / plan (年度別計画)
    source: str  # "expense", or one of FUNDING
    amount_yen: int
    setsu: str = ""
    setsu_name: str = ""
    item: str = ""


class Facts(Protocol):
    """What a sheet reads from the city's store."""

    def tallies(self, start: date, end: date) -> list[Tally]: ...

    def finance(self, programme: str) -> list[FinanceLine]: ...

    def population(self, on: date) -> int:
        """Residents on the register on day ``on`` (住民基本台帳人口)."""
        ...


@dataclass(frozen=True)
class IndicatorValue:
    """A computed value with the records it counts and the drill-down filter to reach them."""

    id: str
    fiscal_year: int
    value: Decimal | int | None
    display: str
    records: int
    drill: dict[str, Any]
    reason: str = ""  # why the value is not computed (a missing input), never a guess


class Valuer:
    """Computes catalogue indicators per fiscal year, reading each day range once."""

    def __init__(self, facts: Facts, programme: Programme) -> None:
        self.facts = facts
        self.p = programme
        self.scope = Scope(
            store_types=tuple(programme.store_types),
            card_kinds=tuple(programme.card_kinds),
            card_since=programme.card_since,
            programme=programme.programme,
        )
        self._cache: dict[tuple[date, date], list[Tally]] = {}

    def _tallies(self, start: date, end: date) -> list[Tally]:
        if (start, end) not in self._cache:
            self._cache[(start, end)] = self.facts.tallies(start, end)
        return self._cache[(start, end)]

    def _count(self, pick: Pick, start: date, end: date) -> tuple[int, int]:
        return pick.total(self._tallies(start, end))

    def value(self, ind: str, fy: int, live_from: date | None = None) -> IndicatorValue:
        """IND-/OPT-/COST-07 value of fiscal year ``fy`` (stock: as of 31 March)."""
        d = CATALOGUE[ind]
        start, end = fy_bounds(fy)
        if live_from is not None and fy < _fy(live_from):
            return IndicatorValue(ind, fy, None, "-", 0, {})
        if ind in ("IND-05", "OPT-10"):
            return self._ratio(ind, fy)
        if ind in _DERIVED:
            return _DERIVED[ind](self, fy)
        if d.pick is None:
            return IndicatorValue(ind, fy, None, "", 0, {"note": "not counted from the log"})
        pick = d.pick(self.scope)
        if d.kind == "stock":
            start = self.scope.card_since
        if ind == "COST-07":
            return self._fte(fy, start, end)
        total, records = self._count(pick, start, end)
        drill = pick.as_filter() | {"from": start.isoformat(), "to": end.isoformat()}
        return IndicatorValue(ind, fy, total, number(total), records, drill)

    def _ratio(self, ind: str, fy: int) -> IndicatorValue:
        start, end = fy_bounds(fy)
        everything = CATALOGUE["IND-07"].pick
        assert everything is not None
        denominator, records = self._count(everything(self.scope), start, end)
        channels = ("store",) if ind == "IND-05" else ("store", "kiosk")
        part = Pick(
            "certificate.issued", "copies", channel=channels, doc_type=self.scope.store_types
        )
        numerator, _ = self._count(part, start, end)
        drill = part.as_filter() | {"from": start.isoformat(), "to": end.isoformat()}
        if denominator == 0:
            return IndicatorValue(ind, fy, None, "-", 0, drill)
        share = half_up(Decimal(numerator) / Decimal(denominator) * 100)
        return IndicatorValue(ind, fy, share, f"{share}", records, drill)

    def _fte(self, fy: int, start: date, end: date) -> IndicatorValue:
        if fy in self.p.fte:
            fte = half_up(self.p.fte[fy], 2)
            return IndicatorValue("COST-07", fy, fte, f"{fte}", 0, {"configured": True})
        tallies = [t for t in self._tallies(start, end) if t.programme == self.p.programme]
        minutes, records = Pick("staff.time_logged").total(tallies)
        if records == 0:
            return IndicatorValue("COST-07", fy, None, "", 0, {})
        fte = half_up(Decimal(minutes) / 60 / self.p.standard_hours_per_fte, 2)
        drill = {"kind": "staff.time_logged", "programme": self.p.programme}
        return IndicatorValue("COST-07", fy, fte, f"{fte}", records, drill)


CARDS_BEGAN = date(2016, 1, 1)  # マイナンバーカード交付開始: no card is older
_CARD_ENDS = ("card.abolished", "card.expired")


def _missing(ind: str, fy: int, reason: str, drill: dict[str, Any] | None = None) -> IndicatorValue:
    return IndicatorValue(ind, fy, None, "", 0, drill or {}, reason)


def _holding_rate(v: Valuer, fy: int) -> IndicatorValue:
    """OPT-08: cards handed over and not ended ÷ registered population, as of 31 March."""
    as_of = fy_bounds(fy)[1]
    tallies = v._tallies(CARDS_BEGAN, as_of)
    issued, records = Pick("card.issued").total(tallies)
    for kind in _CARD_ENDS:
        ended, more = Pick(kind).total(tallies)
        issued, records = issued - ended, records + more
    drill: dict[str, Any] = {
        "kind": "card.issued",
        "minus": list(_CARD_ENDS),
        "from": CARDS_BEGAN.isoformat(),
        "to": as_of.isoformat(),
    }
    if fy in v.p.population:
        population, source = v.p.population[fy], "configuration"
    elif v.p.register_since is not None and v.p.register_since <= as_of:
        population, source = v.facts.population(as_of), "register"
    else:
        why = (
            f"registered population on {as_of.isoformat()} is not known: set population.{fy} "
            "or register_since in the programme's configuration"
        )
        return _missing("OPT-08", fy, why, drill)
    drill |= {"population": population, "population_from": source, "held": issued}
    if population <= 0:
        return _missing("OPT-08", fy, f"no registered population on {as_of.isoformat()}", drill)
    rate = half_up(Decimal(issued) / Decimal(population) * 100)
    return IndicatorValue("OPT-08", fy, rate, f"{rate}", records, drill)


def _unit_cost(v: Valuer, fy: int) -> IndicatorValue:
    """OPT-12: 総事業費試算 (COST-09, settled) ÷ the chosen activity indicator, to the yen."""
    first = next((s.id for s in v.p.indicators if s.slot.startswith("活動")), "")
    activity = v.p.unit_cost_of or _ANNUAL_OF.get(first, first)
    if activity not in CATALOGUE or CATALOGUE[activity].kind != "flow":
        return _missing("OPT-12", fy, "no activity indicator chosen: set unit_cost_of")
    col = _cost_column(v, v.facts.finance(v.p.programme), fy, fy)
    drill: dict[str, Any] = {"activity": activity, "stage": "settled"}
    if not col["recorded"]:
        return _missing("OPT-12", fy, f"no settled 事業費 recorded for fiscal year {fy}", drill)
    if col["COST-08"] is None:
        why = f"人件費相当試算 (COST-08) of fiscal year {fy} is not known: staff hours or FTE, "
        why += "and the average personnel cost"
        return _missing("OPT-12", fy, why, drill)
    count = v.value(activity, fy)
    drill |= {"COST-09": col["COST-09"], activity: count.value}
    if not isinstance(count.value, int) or count.value <= 0:
        return _missing("OPT-12", fy, f"{activity} is not a count above 0 in {fy}", drill)
    yen = int(half_up(Decimal(col["COST-09"]) / Decimal(count.value), 0))
    return IndicatorValue("OPT-12", fy, yen, number(yen), count.records, drill)


def _slot_fill(v: Valuer, fy: int) -> IndicatorValue:
    """OPT-14: bookings ÷ capacity of the 交付枠 held in the fiscal year."""
    start, end = fy_bounds(fy)
    tallies = v._tallies(start, end)
    offered, records = Pick("card.issuance_slot_defined", role=("defined", "increase")).total(
        tallies
    )
    cut, more = Pick("card.issuance_slot_defined", role=("decrease",)).total(tallies)
    booked, booking_records = Pick("card.issuance_booked").total(tallies)
    capacity = offered - cut
    drill: dict[str, Any] = {
        "kind": "card.issuance_booked",
        "from": start.isoformat(),
        "to": end.isoformat(),
        "booked": booked,
        "capacity": capacity,
    }
    if capacity <= 0:
        return _missing("OPT-14", fy, f"no issuance slots (交付枠) held in fiscal year {fy}", drill)
    rate = half_up(Decimal(booked) / Decimal(capacity) * 100)
    return IndicatorValue("OPT-14", fy, rate, f"{rate}", records + more + booking_records, drill)


_ANNUAL_OF = {"IND-01": "IND-02"}  # a year's cost is divided by that year's count, not a stock
_DERIVED = {"OPT-08": _holding_rate, "OPT-12": _unit_cost, "OPT-14": _slot_fill}


def _fy(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _stage(fy: int, target: int) -> str:
    return "settled" if fy <= target else ("budget" if fy == target + 1 else "plan")


def _cost_column(
    valuer: Valuer, lines: Sequence[FinanceLine], fy: int, target: int
) -> dict[str, Any]:
    """事業費, funding, FTE, personnel-equivalent and total for one fiscal year column."""
    p = valuer.p
    stage = _stage(fy, target)
    mine = [line for line in lines if line.fiscal_year == fy and line.stage == stage]
    program = sum(line.amount_yen for line in mine if line.source == "expense")
    out: dict[str, Any] = {"fiscal_year": fy, "stage": stage, "COST-01": program}
    specific = 0
    for source, ind in _FUNDING_IDS.items():
        amount = sum(line.amount_yen for line in mine if line.source == source)
        out[ind] = amount
        specific += amount
    out["COST-06"] = program - specific
    fte = valuer.value("COST-07", fy).value
    out["COST-07"] = fte
    average = p.average_personnel_cost.get(fy)
    personnel = None
    if fte is not None and average is not None:
        personnel = int(half_up(Decimal(fte) * average, 0))
    out["COST-08"] = personnel
    out["COST-09"] = program + (personnel or 0)
    out["recorded"] = bool(mine)
    out["COST-10"] = [
        {
            "setsu": line.setsu,
            "setsu_name": line.setsu_name,
            "item": line.item,
            "yen": line.amount_yen,
        }
        for line in mine
        if line.source == "expense" and line.item
    ]
    return out


def _trend_sentence(slot: IndicatorSlot, now: int, before: int) -> str:
    """評価理由・指標数値の推移: fully decided by the data (EVALUATION.md §2.6)."""
    name = slot.short_name or slot.name
    unit = slot.unit
    if now == before:
        return f"{name}は、{now:,}{unit}で前年度と同数であった。"
    change = pct_change(now, before)
    way = "増加" if now > before else "減少"
    pct = "" if change is None else f"（{change}％）"
    return f"{name}は、{now:,}{unit}で前年度と比較して{abs(now - before):,}{unit}{pct}{way}した。"


def _attainment(p: Programme, actual: Decimal, target: Decimal) -> tuple[str, Decimal | None]:
    """成果指標の達成度 from the thresholds: above / about / below target."""
    if target == 0:
        return ("概ね目標値どおり" if actual == 0 else "目標値より低い"), None
    rate = half_up(actual / target * 100)
    band = p.thresholds.get("band", Decimal(5))
    if rate >= 100 + band:
        return "目標値より高い", rate
    if rate >= 100 - band:
        return "概ね目標値どおり", rate
    return "目標値より低い", rate


def build_sheet(facts: Facts, p: Programme, fiscal_year: int, today: date) -> dict[str, Any]:
    """Everything the sheet of ``fiscal_year`` prints, keyed as ``kofu evaluation --json`` shows."""
    n = fiscal_year
    valuer = Valuer(facts, p)
    texts = p.texts_for(n)
    if p.template == "fukaya":
        table_fys = list(range(n - 1, max(p.plan_end or n + 4, n + 1) + 1))
        cost_fys = [n - 1, n, n + 1, n + 2]
    else:
        table_fys = [n - 1, n, n + 1]
        cost_fys = [n - 1, n, n + 1]
    actual_fys = [n - 1, n]
    figures: dict[str, dict[str, Any]] = {}
    drill: dict[str, dict[str, Any]] = {}
    rows = []
    for slot in p.indicators:
        actual: dict[str, str] = {}
        target: dict[str, str] = {}
        missing: dict[str, str] = {}
        for fy in actual_fys:
            v = valuer.value(slot.id, fy, slot.live_from)
            figures.setdefault(slot.id, {})[str(fy)] = (
                None if v.value is None else (float(v.value) if slot.unit == "%" else v.value)
            )
            drill.setdefault(slot.id, {})[str(fy)] = {"records": v.records, "filter": v.drill}
            actual[str(fy)] = _shown(v.value, v.display, _places(slot))
            if v.reason:
                actual[str(fy)], missing[str(fy)] = NOT_COMPUTED, v.reason
        for fy in table_fys:
            if slot.live_from is not None and fy < _fy(slot.live_from):
                target[str(fy)] = "-"
            elif fy in slot.targets:
                target[str(fy)] = _shown(slot.targets[fy], "", _places(slot))
        rows.append(
            {
                "slot": slot.slot,
                "id": slot.id,
                "name": slot.name,
                "unit": slot.unit,
                "target_word": slot.target_word,
                "target": target,
                "actual": actual,
                "rationale": slot.target_rationale,
                "source": slot.source or CATALOGUE[slot.id].source,
                "formula": slot.formula or CATALOGUE[slot.id].formula,
                "no_target": slot.no_target,
                "not_computed": missing,  # fiscal year → why its value is not there
            }
        )
    lines = facts.finance(p.programme)
    costs = [_cost_column(valuer, lines, fy, n) for fy in cost_fys]
    for col in costs:
        for key in (
            "COST-01",
            "COST-02",
            "COST-03",
            "COST-04",
            "COST-05",
            "COST-06",
            "COST-07",
            "COST-08",
            "COST-09",
        ):
            value = col[key]
            figures.setdefault(key, {})[str(col["fiscal_year"])] = (
                float(value) if isinstance(value, Decimal) else value
            )
    sentences, drafted = _sentences(p, figures, n)
    prepared = texts.get("prepared_on") or today.isoformat()
    return {
        "city": p.city,
        "programme": p.programme,
        "template": p.template,
        "fiscal_year": n,
        "name": p.name,
        "division": p.division,
        "section": p.section,
        "account": p.account,
        "plan_levels": [lv.model_dump() for lv in p.plan_levels],
        "prepared_on": prepared,
        "prepared_label": prepared_label(date.fromisoformat(prepared)),
        "table_years": [{"fy": fy, "label": fy_label(fy, p.template)} for fy in table_fys],
        "cost_years": [
            {
                "fy": c["fiscal_year"],
                "label": fy_label(c["fiscal_year"], p.template),
                "stage": c["stage"],
            }
            for c in costs
        ],
        "indicators": rows,
        "costs": [_cost_display(p, c) for c in costs],
        "cost_lines": costs[1]["COST-10"] if len(costs) > 1 else [],
        "cost_delta": _delta(p, costs[0], costs[1]),
        "figures": figures,
        "drill_down": drill,
        "sentences": sentences,
        "drafted": drafted,
        "texts": texts.values,
        "texts_carried_from": texts.carried_from,
        "previous_plan": p.texts_for(n - 1).get("improvement_next") if n - 1 in p.texts else "",
        "evaluators": p.evaluators,
        "money_unit": p.money_unit,
    }


def _places(slot: IndicatorSlot) -> int:
    """A percentage has one decimal, shown even when it is .0 (EVALUATION.md §2.7)."""
    return 1 if slot.unit == "%" else slot.decimals


def _shown(value: Decimal | int | None, display: str, decimals: int) -> str:
    if value is None:
        return display
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value}"
    return number(value, decimals)


def _cost_display(p: Programme, col: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"fiscal_year": col["fiscal_year"], "stage": col["stage"]}
    blank_empty = p.template == "hanamaki"
    for key in ("COST-01", "COST-02", "COST-03", "COST-04", "COST-05", "COST-06", "COST-09"):
        value = col[key]
        if blank_empty and (not col["recorded"] or value == 0):
            out[key] = ""
        else:
            out[key] = money(value, p.money_unit)
    out["COST-07"] = "" if col["COST-07"] is None else f"{col['COST-07']}"
    out["COST-08"] = "" if col["COST-08"] is None else money(col["COST-08"], p.money_unit)
    return out


def _delta(p: Programme, before: dict[str, Any], now: dict[str, Any]) -> dict[str, str]:
    """決算額前年比 (B−A), negatives as 「△ 29,510」; blank when both years are blank."""
    out = {}
    for key in ("COST-01", "COST-02", "COST-03", "COST-04", "COST-05", "COST-06"):
        a, b = before[key], now[key]
        if a == 0 and b == 0:
            out[key] = ""
            continue
        out[key] = money(b, p.money_unit, signed=True, minus=a)
    return out


def _sentences(
    p: Programme, figures: dict[str, dict[str, Any]], n: int
) -> tuple[dict[str, str], dict[str, str]]:
    """The sentences and grades the data decides; every other text is the staff's."""
    sentences: dict[str, str] = {}
    drafted: dict[str, str] = {}
    trend = []
    for slot in p.indicators:
        now, before = figures[slot.id].get(str(n)), figures[slot.id].get(str(n - 1))
        if (
            slot.slot.startswith("活動")
            and p.template == "fukaya"
            and isinstance(now, int)
            and isinstance(before, int)
        ):
            trend.append(_trend_sentence(slot, now, before))
        if slot.slot.startswith("成果") and p.template == "fukaya":
            target = slot.targets.get(n)
            if target == 0 and slot.lower_is_better and now == 0:
                name = slot.short_name or slot.name
                sentences["outcome_reason"] = f"{name}は発生しなかったためＡ評価とする。"
                drafted["outcome_grade"] = "A"
        if (
            slot.slot.startswith("成果")
            and p.template == "hanamaki"
            and "attainment" not in drafted
        ):
            target = slot.targets.get(n)
            if target is not None and now is not None:
                word, rate = _attainment(p, Decimal(str(now)), target)
                drafted["attainment"] = word
                if rate is not None:
                    drafted["attainment_rate"] = f"{rate}"
    if trend:
        sentences["activity_trend"] = "\n".join(trend)
    return sentences, drafted
