"""The seeds reproduced: from a history with the seeds' yearly totals, the sheets print them.

The history is the demo cities' packaged CSV (imported with the history
import, all or none) plus the staff-recorded finance lines; the Fukaya
FY2023 and Hanamaki FY2016 sheets must print the seed sheets' numbers cell
for cell, in the JSON and in the PDF's text, and follow any change.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.issuance import issue_certificate
from kofu.city.services.seeding import seed_city
from kofu.city.services.store import answer_store_request, record_store_print
from kofu.contracts.store import StorePrinted, StoreRequest
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import InvalidInput, NotFound
from kofu.evaluation.adapters.graphs import sheet_graphs
from kofu.evaluation.adapters.html import render_html
from kofu.evaluation.adapters.pdf import render_pdf
from kofu.evaluation.services.activity import (
    demo_history,
    import_history,
    record_fact,
    reverse_record,
)
from kofu.evaluation.services.sheets import indicators, sheet

CLOCK = FixedClock(datetime(2026, 12, 7, 10, 0, tzinfo=JST))
TODAY = date(2026, 12, 7)


MARCH_2017 = FixedClock(datetime(2017, 3, 21, 10, 0, tzinfo=JST))  # FY2016, 平成28年度


def _hanamaki_history() -> str:
    """The packaged history less what the test then does for real in March 2017.

    Two counter 住民票 and one store 住民票 of FY2016 come from real
    operations (the counter, the store request and its confirmed print), so
    the yearly totals stay the seed's: 900 store copies of 100,000.
    """
    text = (resources.files("kofu.evaluation") / "history" / "032051.csv").read_text("utf-8")
    text = text.replace(
        "2017-03-10,certificate.issued,4955,", "2017-03-10,certificate.issued,4953,"
    )
    return text.replace("2017-03-13,certificate.issued,52,", "2017-03-13,certificate.issued,51,")


def _real_operations(engine: Engine) -> None:
    """Two counter issuances and one store issuance with its confirmed print, in March 2017."""
    with CityUnitOfWork(engine, today=MARCH_2017.today()) as uow:
        holder = uow.registers.sample_holder()
        assert holder is not None
        uow.cards.save_card(
            CardRecord(
                card_id="032051-20160301-0001",
                resident_code=holder.resident_code,
                application_id="A1",
                issued_on=date(2016, 3, 1),
                expires_on=date(2026, 3, 1),
                auth_serial="5eed",
                certificates_expire_on=date(2021, 3, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()
    for _ in range(2):
        request = IssueRequest.parse(type="juminhyo", resident_code=holder.resident_code)
        issue_certificate(uow=CityUnitOfWork(engine), request=request, clock=MARCH_2017)
    asked = StoreRequest(request_id="R" * 20, auth_serial="5eed", certificate="juminhyo")
    uow = CityUnitOfWork(engine)
    answer_store_request(
        uow=uow, code="032051", rules=StoreRules(), clock=MARCH_2017, request=asked
    )
    printed = StorePrinted(
        request_id="R" * 20, city="032051", copies=1, fee=300, printed_at=MARCH_2017.now()
    )
    record_store_print(uow=uow, code="032051", notice=printed, clock=MARCH_2017)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Engine]]:
    base = tmp_path_factory.mktemp("seeds")
    fukaya = make_engine(f"sqlite:///{base / '112186'}.sqlite")
    migrate(fukaya, "city")
    assert demo_history(fukaya, "112186", CLOCK) is not None
    assert demo_history(fukaya, "112186", CLOCK) is None  # loaded once
    hanamaki = make_engine(f"sqlite:///{base / '032051'}.sqlite")
    migrate(hanamaki, "city")
    seed_city(engine=hanamaki, code="032051", residents=60, seed=3, today=TODAY)
    import_history(hanamaki, _hanamaki_history(), CLOCK)
    staff = (resources.files("kofu.evaluation") / "history" / "032051-staff.json").read_text()
    for fact in json.loads(staff):
        on = date.fromisoformat(fact.pop("on"))
        record_fact(hanamaki, fact.pop("kind"), CLOCK, on=on, **fact)
    _real_operations(hanamaki)
    yield {"112186": fukaya, "032051": hanamaki}
    fukaya.dispose()
    hanamaki.dispose()


def _pdf_text(data: dict[str, Any], tmp_path: Path) -> str:
    pdf = tmp_path / "sheet.pdf"
    pdf.write_bytes(render_pdf(data, sheet_graphs(data)))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    assert "IPAex" in fonts.stdout and " no " not in fonts.stdout.split("\n", 2)[2].replace(
        "yes yes", ""
    )
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True)
    return out.stdout


def test_fukaya_fy2023_prints_the_seed(stores: dict[str, Engine], tmp_path: Path) -> None:
    data = sheet(stores["112186"], tmp_path, "112186", "16231", 2023, TODAY)
    f = data["figures"]
    assert f["IND-01"] == {"2022": 83507, "2023": 103144}
    assert f["IND-03"] == {"2022": 62, "2023": 53}
    assert f["IND-04"] == {"2022": 0, "2023": 0}
    assert f["COST-07"] == {"2022": 2.66, "2023": 3.31, "2024": 3.31, "2025": 3.31}
    assert f["COST-08"] == {"2022": 20933022, "2023": 26513647, "2024": 27674579, "2025": 27674579}
    assert f["COST-09"] == f["COST-08"]  # 事業費 0 + personnel (EVALUATION.md §1A.10)
    assert f["COST-01"] == {"2022": 0, "2023": 0, "2024": 0, "2025": 0}
    assert 103144 - 83507 == 19637
    assert data["sentences"]["activity_trend"] == (
        "マイナンバーカードの交付件数は、103,144件で前年度と比較して19,637件（23.5％）増加した。\n"
        "広域住民票の交付件数は、53件で前年度と比較して9件（14.5％）減少した。"
    )
    assert (
        data["sentences"]["outcome_reason"]
        == "交付誤りによる苦情件数は発生しなかったためＡ評価とする。"
    )
    assert data["drafted"]["outcome_grade"] == "A"
    assert data["prepared_label"] == "令和06年06月10日(月)"
    text = _pdf_text(data, tmp_path)
    for printed in (
        "83,507.00",
        "103,144.00",
        "62.00",
        "53.00",
        "20,933,022",
        "26,513,647",
        "27,674,579",
        "2.66",
        "3.31",
        "令和06年06月10日(月)",
        "令和4年度",
        "令和9年度",
        "住民基本台帳ネットワークシステム運営及び公的個人認証サービス事務",
    ):
        assert printed in text, printed
    assert "#" not in text
    huge = dict(data["indicators"][0]) | {
        "actual": {"2022": "83,507.00", "2023": "987,654,321,012.00"}
    }
    wide = _pdf_text(data | {"indicators": [huge, *data["indicators"][1:]]}, tmp_path)
    assert "987,654,321,012.00" in wide  # shrunk to fit its cell, never cut or ####
    assert "（23.5％）" in text.replace(" ", "").replace("\n", "")


def test_hanamaki_fy2016_prints_the_seed(stores: dict[str, Engine], tmp_path: Path) -> None:
    data = sheet(stores["032051"], tmp_path, "032051", "124750", 2016, TODAY)
    f = data["figures"]
    assert f["IND-02"] == {"2015": 3439, "2016": 4367}
    assert f["IND-05"] == {"2015": None, "2016": 0.9}
    found = {
        i["id"]: i
        for i in indicators(stores["032051"], tmp_path, "032051", "124750", 2016)["indicators"]
    }
    assert (found["IND-06"]["value"], found["IND-07"]["value"]) == (900, 100_000)
    with stores["032051"].connect() as conn:  # three of them were real operations, not imported
        origins = conn.execute(
            select(t.activity_log.c.channel, t.activity_log.c.ref).where(
                t.activity_log.c.origin == "operation"
            )
        ).all()
    assert sorted(origins) == [
        ("counter", "issue:1"),
        ("counter", "issue:2"),
        ("store", "store:" + "R" * 20),
    ]
    rows = {r["id"]: r for r in data["indicators"]}
    assert rows["IND-02"]["target"] == {"2015": "5,500", "2016": "11,000"}
    assert rows["IND-05"]["target"] == {"2015": "-", "2016": "3.5"}
    assert rows["IND-05"]["actual"] == {"2015": "-", "2016": "0.9"}
    assert data["drafted"]["attainment"] == "目標値より低い"
    assert data["drafted"]["attainment_rate"] == "25.7"  # 0.9 / 3.5
    costs = {c["fiscal_year"]: c for c in data["costs"]}
    assert (costs[2015]["COST-01"], costs[2016]["COST-01"], costs[2017]["COST-01"]) == (
        "39,198",
        "9,688",
        "",
    )
    assert (costs[2016]["COST-05"], costs[2016]["COST-06"], costs[2015]["COST-05"]) == (
        "279",
        "9,409",
        "",
    )
    assert data["cost_delta"] == {
        "COST-01": "△ 29,510",
        "COST-02": "",
        "COST-03": "",
        "COST-04": "",
        "COST-05": "279",
        "COST-06": "△ 29,789",
    }
    lines = [x["yen"] // 1000 for x in data["cost_lines"]]
    assert lines == [114, 1030, 2449, 3095, 3000] and sum(lines) == 9688
    text = _pdf_text(data, tmp_path)
    for printed in (
        "平成 28 年度",
        "27年度(実績)",
        "29年度(計画)",
        "3,439",
        "4,367",
        "5,500",
        "11,000",
        "0.9",
        "3.5",
        "39,198",
        "9,688",
        "△ 29,510",
        "△ 29,789",
        "9,409",
        "○ 目標値より低い",
        "124750",
    ):
        assert printed in text, printed
    html = render_html(data, {})
    assert "△ 29,510" in html and "<script" not in html
    forged = data | {"texts": data["texts"] | {"purpose": "<script>alert(1)</script>"}}
    assert "&lt;script&gt;alert(1)" in render_html(forged, {})  # staff text is text, never markup


def test_the_figures_follow_the_history(stores: dict[str, Engine], tmp_path: Path) -> None:
    engine = stores["112186"]
    import_history(
        engine,
        "occurred_at,kind,count,role\n2024-03-01,widearea_juminhyo.issued,1,issuing\n",
        CLOCK,
    )
    with engine.connect() as conn:
        first_card = conn.execute(
            select(t.activity_log.c.id, t.activity_log.c.count).where(
                t.activity_log.c.kind == "card.issued", t.activity_log.c.day == date(2023, 4, 15)
            )
        ).one()
    reverse_record(engine, first_card.id, "counted twice in the old system", CLOCK)
    data = sheet(engine, tmp_path, "112186", "16231", 2023, TODAY)
    assert data["figures"]["IND-03"]["2023"] == 54
    assert data["figures"]["IND-01"]["2023"] == 103144 - first_card.count
    assert "54件で前年度と比較して8件（12.9％）減少" in data["sentences"]["activity_trend"]
    found = indicators(engine, tmp_path, "112186", "16231", 2023)
    by_id = {i["id"]: i for i in found["indicators"]}
    assert by_id["IND-03"]["value"] == 54 and by_id["IND-03"]["records"] == 13
    assert by_id["IND-03"]["drill_down"]["from"] == "2023-04-01"


def test_a_history_with_one_bad_row_is_refused_whole(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    migrate(engine, "city")
    text = "occurred_at,kind,count\n2020-04-01,card.issued,3\n2020-04-02,card.issued,-1\n"
    with pytest.raises(InvalidInput, match="line 3, count"):
        import_history(engine, text, CLOCK)
    for bad, where in (
        ("occurred_at,kind\n2020-13-01,card.issued\n", "line 2, occurred_at"),
        ("occurred_at,kind\n2020-04-01,card.stolen\n", "line 2, kind"),
        ("occurred_at,kind,owner\n2020-04-01,card.issued,x\n", "line 1, owner"),
        ("occurred_at,kind\n2020-04-01,complaint.recorded\n", "line 2, cause"),
    ):
        with pytest.raises(InvalidInput, match=where):
            import_history(engine, bad, CLOCK)
    with engine.connect() as conn:
        assert conn.execute(select(t.activity_log.c.id)).first() is None  # nothing was written
    engine.dispose()


def test_the_packaged_configuration_parses() -> None:
    names = [p.name for p in (resources.files("kofu.evaluation") / "config").iterdir()]
    assert sorted(n for n in names if n.endswith(".toml")) == [
        "032051-124750.toml",
        "112186-16231.toml",
    ]


def test_a_fact_from_the_future_or_an_unknown_programme_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    migrate(engine, "city")
    with pytest.raises(InvalidInput) as future:
        record_fact(engine, "complaint", CLOCK, on=date(2027, 1, 1), cause="waiting")
    assert future.value.field == "on"
    with pytest.raises(InvalidInput) as cause:
        record_fact(engine, "complaint", CLOCK, cause="ufo")
    assert cause.value.field == "cause"
    with pytest.raises(InvalidInput) as money:
        record_fact(
            engine,
            "finance",
            CLOCK,
            programme="16231",
            fiscal_year=2023,
            stage="settled",
            amount_yen=-5,
        )
    assert money.value.field == "amount_yen"
    with pytest.raises(NotFound):
        sheet(engine, tmp_path, "112186", "99999", 2023, TODAY)
    with pytest.raises(InvalidInput):
        sheet(engine, tmp_path, "112186", "../../etc", 2023, TODAY)  # never a path of its own
    engine.dispose()
