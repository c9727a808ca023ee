"""OPT-08, OPT-12 and OPT-14 computed from the log, on in-memory facts.

A value whose input is missing (no population, no settled cost, no personnel
cost, no slots) is not computed and says why; the sheet marks its cell 「※」
and prints the reason, in the JSON, the page and the PDF alike.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kofu.core.errors import InvalidInput
from kofu.evaluation.adapters.config import load_programme
from kofu.evaluation.adapters.graphs import sheet_graphs
from kofu.evaluation.adapters.html import render_html
from kofu.evaluation.adapters.pdf import render_pdf
from kofu.evaluation.domain.indicators import Tally
from kofu.evaluation.domain.programme import IndicatorSlot, Programme
from kofu.evaluation.domain.sheet import FinanceLine, Valuer, build_sheet


@dataclass
class MemoryFacts:
    """The log as daily tallies, finance lines and a register's population by day."""

    days: list[tuple[date, Tally]] = field(default_factory=list)
    lines: list[FinanceLine] = field(default_factory=list)
    residents: dict[date, int] = field(default_factory=dict)
    asked: list[date] = field(default_factory=list)

    def add(self, day: date, kind: str, n: int = 1, **qualifiers: Any) -> None:
        self.days.append((day, Tally(kind, n=n, records=1, **qualifiers)))

    def tallies(self, start: date, end: date) -> list[Tally]:
        return [t for day, t in self.days if start <= day <= end]

    def finance(self, programme: str) -> list[FinanceLine]:
        return self.lines

    def population(self, on: date) -> int:
        self.asked.append(on)
        return self.residents.get(on, 0)


def programme(**settings: Any) -> Programme:
    base: dict[str, Any] = {
        "city": "112186",
        "programme": "16231",
        "template": "fukaya",
        "name": "住民基本台帳ネットワークシステム運営及び公的個人認証サービス事務",
        "indicators": [IndicatorSlot(slot="活動指標１", id="IND-02", name="カード交付枚数")],
    }
    return Programme.model_validate(base | settings)


def cards(facts: MemoryFacts) -> None:
    """1,000 cards handed over by FY2023, 30 of them ended (reissued, returned, expired)."""
    facts.add(date(2016, 2, 1), "card.issued", 400, role="new")
    facts.add(date(2023, 6, 1), "card.issued", 600, role="new")
    facts.add(date(2023, 9, 1), "card.abolished", 20, cause="reissue")
    facts.add(date(2024, 3, 31), "card.expired", 10)
    facts.add(date(2024, 4, 1), "card.abolished", 500, cause="returned")  # the next year


def test_holding_rate_is_cards_held_over_the_population_of_31_march() -> None:
    facts = MemoryFacts(residents={date(2024, 3, 31): 3_000})
    cards(facts)

    configured = Valuer(facts, programme(population={2023: 2_970})).value("OPT-08", 2023)
    assert configured.value == Decimal("32.7")  # 970 ÷ 2,970 = 32.66…, half-up
    assert configured.drill["population_from"] == "configuration"
    assert facts.asked == []

    counted = Valuer(facts, programme(register_since=date(2024, 1, 1))).value("OPT-08", 2023)
    assert (counted.value, counted.display, counted.reason) == (Decimal("32.3"), "32.3", "")
    assert counted.drill["held"] == 970 and counted.drill["population_from"] == "register"
    assert facts.asked == [date(2024, 3, 31)]


def test_holding_rate_without_a_population_is_not_computed() -> None:
    facts = MemoryFacts(residents={date(2023, 3, 31): 3_000})
    cards(facts)
    late = programme(register_since=date(2024, 1, 1))  # the register came after 31 March 2023
    for p in (programme(), late):
        v = Valuer(facts, p).value("OPT-08", 2022)
        assert v.value is None and v.display == ""
        assert "population" in v.reason and "2023-03-31" in v.reason
    assert facts.asked == []


def _settled(fy: int, yen: int) -> FinanceLine:
    return FinanceLine(fiscal_year=fy, stage="settled", source="expense", amount_yen=yen)


def test_unit_cost_is_the_total_estimate_over_the_activity_count() -> None:
    facts = MemoryFacts(lines=[_settled(2023, 1_000_000)])
    facts.add(date(2023, 5, 1), "card.issued", 3_000, role="new")
    p = programme(fte={2023: "0.5"}, average_personnel_cost={2023: "8000000"})
    v = Valuer(facts, p).value("OPT-12", 2023)
    assert v.value == 1_667  # (1,000,000 + 4,000,000) ÷ 3,000 = 1,666.67 → 1,667 円/件
    assert (v.display, v.drill["COST-09"], v.drill["activity"]) == ("1,667", 5_000_000, "IND-02")

    stock = programme(
        fte={2023: "0.5"},
        average_personnel_cost={2023: "8000000"},
        indicators=[IndicatorSlot(slot="活動指標１", id="IND-01", name="累計")],
    )
    by_year = Valuer(facts, stock).value("OPT-12", 2023)  # a year's cost over a year's cards
    assert (by_year.value, by_year.drill["activity"]) == (1_667, "IND-02")

    chosen = programme(
        fte={2023: "0.5"}, average_personnel_cost={2023: "8000000"}, unit_cost_of="OPT-03"
    )
    facts.add(date(2023, 5, 1), "jpki.certificate_issued", 4_000)
    assert Valuer(facts, chosen).value("OPT-12", 2023).value == 1_250

    no_direct_cost = MemoryFacts(lines=[_settled(2023, 0)], days=facts.days)  # recorded as 0
    assert Valuer(no_direct_cost, p).value("OPT-12", 2023).value == 1_333  # 4,000,000 ÷ 3,000


@pytest.mark.parametrize(
    ("settings", "lines", "issued", "why"),
    [
        ({"fte": {2023: "0.5"}, "average_personnel_cost": {2023: "8000000"}}, [], 10, "settled"),
        ({"fte": {2023: "0.5"}}, [_settled(2023, 1)], 10, "人件費相当試算"),
        ({"fte": {2023: "1"}, "average_personnel_cost": {2023: "1"}}, [_settled(2023, 1)], 0, "0"),
        ({"indicators": []}, [_settled(2023, 1)], 10, "unit_cost_of"),
    ],
)
def test_unit_cost_without_its_inputs_is_not_computed(
    settings: dict[str, Any], lines: list[FinanceLine], issued: int, why: str
) -> None:
    facts = MemoryFacts(lines=lines)
    if issued:
        facts.add(date(2023, 5, 1), "card.issued", issued, role="new")
    v = Valuer(facts, programme(**settings)).value("OPT-12", 2023)
    assert v.value is None and why in v.reason


def test_a_unit_cost_of_something_not_counted_is_refused_when_loaded(tmp_path: Path) -> None:
    for wrong in ("COST-01", "IND-01", "OPT-99"):  # not a count, a stock, no such ID
        with pytest.raises(ValueError, match="unit_cost_of"):
            programme(unit_cost_of=wrong)
    own = tmp_path / "evaluation"
    own.mkdir()
    (own / "112186-16231.toml").write_text(
        'city = "112186"\nprogramme = "16231"\ntemplate = "fukaya"\nname = "x"\n'
        'unit_cost_of = "IND-05"\n',
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as bad:
        load_programme(tmp_path, "112186", "16231")
    assert bad.value.field == "unit_cost_of"


def test_slot_fill_is_bookings_over_the_capacity_held_in_the_year() -> None:
    facts = MemoryFacts()
    facts.add(date(2023, 4, 10), "card.issuance_slot_defined", 20, role="defined")
    facts.add(date(2023, 4, 10), "card.issuance_slot_defined", 10, role="increase")
    facts.add(date(2023, 4, 10), "card.issuance_slot_defined", 5, role="decrease")
    facts.add(date(2024, 3, 30), "card.issuance_slot_defined", 15, role="defined")
    facts.add(date(2024, 4, 1), "card.issuance_slot_defined", 99, role="defined")  # FY2024
    facts.add(date(2023, 4, 10), "card.issuance_booked", 25)
    facts.add(date(2024, 3, 30), "card.issuance_booked", 2)
    v = Valuer(facts, programme()).value("OPT-14", 2023)
    assert v.value == Decimal("67.5")  # 27 ÷ 40
    assert (v.drill["booked"], v.drill["capacity"], v.records) == (27, 40, 6)

    none = Valuer(facts, programme()).value("OPT-14", 2022)
    assert none.value is None and "交付枠" in none.reason


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


def test_the_sheet_prints_them_and_says_why_one_is_missing(tmp_path: Path) -> None:
    facts = MemoryFacts(residents={date(2024, 3, 31): 3_000})
    cards(facts)
    facts.add(date(2023, 4, 10), "card.issuance_slot_defined", 40, role="defined")
    facts.add(date(2023, 4, 10), "card.issuance_booked", 27)
    slots = [
        IndicatorSlot(slot="活動指標１", id="OPT-14", name="交付枠 充足率", unit="%"),
        IndicatorSlot(slot="活動指標２", id="OPT-08", name="カード保有率", unit="%"),
    ]
    p = programme(indicators=slots, register_since=date(2024, 1, 1))
    sheet = build_sheet(facts, p, 2023, date(2024, 6, 10))

    rows = {r["id"]: r for r in sheet["indicators"]}
    assert sheet["figures"]["OPT-14"] == {"2022": None, "2023": 67.5}
    assert sheet["figures"]["OPT-08"] == {"2022": None, "2023": 32.3}
    assert rows["OPT-14"]["actual"] == {"2022": "※", "2023": "67.5"}
    assert "交付枠" in rows["OPT-14"]["not_computed"]["2022"]
    assert rows["OPT-08"]["actual"]["2022"] == "※"
    assert "population.2022" in rows["OPT-08"]["not_computed"]["2022"]

    graphs = sheet_graphs(sheet)
    page = render_html(sheet, graphs)
    assert "2022年度 算出できません" in page and "population.2022" in page
    text = _pdf_text(render_pdf(sheet, graphs), tmp_path)
    assert "67.5" in text and "32.3" in text
    assert "※ 2022: no issuance slots" in text


def _images(pdf: bytes, tmp_path: Path) -> list[tuple[int, int]]:
    """(width, height) in pixels of every image the PDF draws, in page order."""
    path = tmp_path / "graphs.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, check=True, text=True
    )
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    return [(int(r[3]), int(r[4])) for r in rows if r[2] == "image"]


def test_staff_fte_has_its_own_small_chart(tmp_path: Path) -> None:
    facts = MemoryFacts()
    p = programme(fte={2023: "3.31", 2024: "3.31"}, average_personnel_cost={2023: "8360900"})
    sheet = build_sheet(facts, p, 2023, date(2024, 6, 10))
    graphs = sheet_graphs(sheet)
    assert set(graphs) == {"indicator-0", "cost", "fte"}
    fte, cost = _size(graphs["fte"]), _size(graphs["cost"])
    assert fte[0] < cost[0] and fte[1] < cost[1]  # small, and a chart of its own
    assert 'alt="fte"' in render_html(sheet, graphs)
    drawn = _images(render_pdf(sheet, graphs), tmp_path)
    assert fte in drawn and cost in drawn

    bare = build_sheet(facts, programme(), 2023, date(2024, 6, 10))
    assert "fte" not in sheet_graphs(bare)  # no staff figure, no empty chart


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
