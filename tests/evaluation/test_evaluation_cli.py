"""The evaluation commands as a clerk runs them: import, record, a clerk's configuration, sheets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

KOFU = Path(sys.executable).with_name("kofu")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evaluation_cli")


def _kofu(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_DATABASE")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-12-07T10:00:00+09:00"}
    return subprocess.run(
        [str(KOFU), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_record_and_the_sheet_follow(home: Path) -> None:
    bad = home / "bad.csv"
    bad.write_text("occurred_at,kind,count\n2023-05-01,card.issued,2\n2023-05-02,card.issued,x\n")
    refused = _kofu(home, "activity", "import", "--city", "112186", "--file", str(bad), "--json")
    assert refused.returncode == 2
    assert _json(refused)["field"] == "count" and "line 3" in _json(refused)["message"]
    good = home / "good.csv"
    good.write_text(
        "occurred_at,kind,count,role\n"
        "2023-03-31T23:30:00,card.issued,10,new\n"  # Japan time: FY2022
        "2023-03-31T15:30:00Z,card.issued,5,new\n"  # 2023-04-01 00:30 in Japan: FY2023
        "2023-06-01,widearea_juminhyo.issued,3,issuing\n"
    )
    done = _kofu(home, "activity", "import", "--city", "112186", "--file", str(good), "--json")
    assert done.returncode == 0, done.stderr
    assert _json(done)["rows"] == 3
    done = _kofu(
        home,
        "activity",
        "record",
        "--city",
        "112186",
        "--kind",
        "complaint",
        "--cause",
        "issuance_error",
        "--on",
        "2023-09-01",
        "--json",
    )
    assert done.returncode == 0, done.stderr and _json(done)["kind"] == "complaint.recorded"
    clerk = home / "evaluation"
    clerk.mkdir()
    config = (resources.files("kofu.evaluation") / "config" / "112186-16231.toml").read_text()
    config = config.replace('efficiency_grade = "A"', 'efficiency_grade = "B"')
    (clerk / "112186-16231.toml").write_text(config, encoding="utf-8")
    page = home / "sheet.html"
    done = _kofu(
        home,
        "evaluation",
        "--city",
        "112186",
        "--programme",
        "16231",
        "--fiscal-year",
        "2023",
        "--html",
        str(page),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    sheet = _json(done)
    assert sheet["figures"]["IND-01"] == {"2022": 10, "2023": 15}
    assert sheet["figures"]["IND-04"] == {"2022": 0, "2023": 1}
    assert "outcome_reason" not in sheet["sentences"]  # a complaint: the grade is the staff's
    assert sheet["texts"]["efficiency_grade"] == "B"  # the clerk's copy wins
    assert "広域住民票の交付件数は、3件" in sheet["sentences"]["activity_trend"]
    assert (
        "マイナンバーカードの交付件数は、15件で前年度と比較して5件（50.0％）増加した。"
        in (sheet["sentences"]["activity_trend"])
    )
    assert "IPAexGothic" in page.read_text(encoding="utf-8")


def test_optional_indicators_through_the_commands(tmp_path: Path) -> None:
    """Slots, bookings and ended cards imported; OPT-14 on a clerk's sheet, OPT-08 and why not."""
    history = tmp_path / "cards.csv"
    history.write_text(
        "occurred_at,kind,count,role,cause\n"
        "2023-05-01,card.issued,60,new,\n"
        "2023-08-01,card.abolished,5,,reissue\n"
        "2024-02-01,card.expired,5,,\n"
        "2023-06-01,card.issuance_slot_defined,40,defined,\n"
        "2023-06-01,card.issuance_booked,30,,\n"
    )
    done = _kofu(tmp_path, "activity", "import", "--city", "112186", "--file", str(history))
    assert done.returncode == 0, done.stderr
    clerk = tmp_path / "evaluation"
    clerk.mkdir()
    config = (resources.files("kofu.evaluation") / "config" / "112186-16231.toml").read_text()
    slot = '[[indicators]]\nslot = "活動指標３"\nid = "OPT-14"\nname = "交付枠 充足率"\nunit = "%"'
    config = f"population = {{ 2023 = 200 }}\n{config}\n{slot}\n"
    (clerk / "112186-16231.toml").write_text(config, encoding="utf-8")

    shown = _kofu(tmp_path, "indicators", "--city", "112186", "--programme", "16231",
                  "--fiscal-year", "2023", "--json")  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    by_id = {i["id"]: i for i in _json(shown)["indicators"]}
    assert (by_id["OPT-08"]["value"], by_id["OPT-08"]["not_computed"]) == (25.0, None)  # 50 ÷ 200
    assert (by_id["OPT-14"]["value"], by_id["OPT-14"]["on_sheet"]) == (75.0, True)
    assert by_id["OPT-12"]["value"] is None and "事業費" in by_id["OPT-12"]["not_computed"]
    text = _kofu(tmp_path, "indicators", "--city", "112186", "--programme", "16231",
                 "--fiscal-year", "2022")  # fmt: skip
    assert "OPT-08" in text.stdout and "not computed: registered population" in text.stdout

    pdf = tmp_path / "sheet.pdf"
    done = _kofu(tmp_path, "evaluation", "--city", "112186", "--programme", "16231",
                 "--fiscal-year", "2023", "--out", str(pdf), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(r for r in _json(done)["indicators"] if r["id"] == "OPT-14")
    assert row["actual"] == {"2022": "※", "2023": "75.0"}  # a percentage: one decimal, not two
    assert "交付枠" in row["not_computed"]["2022"]
    printed = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "交付枠 充足率" in printed and "75.0" in printed and "※ 2022: no issuance" in printed
