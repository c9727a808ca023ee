"""The real ``kofu`` command, run as a user runs it: KOFU_HOME, KOFU_NOW, JSON lines.

Starting the command costs seconds, so the module runs each invocation once: the
seed first (with ``event kinds`` beside it), then the commands that read or change
the seeded city side by side.  The tests check what each one printed and stored.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from stdnum import luhn
from stdnum.jp import in_ as stdnum_in

from kofu.city.adapters import tables
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.events import event_kinds
from kofu.city.domain.model import Resident
from kofu.core.db import make_engine

KOFU = Path(sys.executable).with_name("kofu")  # the venv's console script
CITY = "032051"  # 岩手県花巻市
TODAY = date(2026, 11, 23)  # KOFU_NOW
SUMMARY_KEYS = {
    "blocked",
    "resident_code",
    "individual_number",
    "name",
    "kana",
    "birth_date",
    "sex",
    "address",
    "household_id",
    "status",
}

Result = subprocess.CompletedProcess[str]


class Kofu:
    """Runs ``kofu`` with its own KOFU_HOME (SQLite) and KOFU_NOW."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("KOFU_DATABASE_URL", "KOFU_DATABASE_SCHEMA_PREFIX")
        }
        self.env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-11-23T10:00:00+09:00"}

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(KOFU), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=self.env,
        )

    @staticmethod
    def finish(process: subprocess.Popen[str], stdin: str = "") -> Result:
        out, err = process.communicate(stdin, timeout=120)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def run_together(self, *runs: tuple[Sequence[str], str]) -> list[Result]:
        started = [(self.start(*args), stdin) for args, stdin in runs]
        return [self.finish(process, stdin) for process, stdin in started]

    def residents(self) -> list[Resident]:
        engine = make_engine(f"sqlite:///{self.home / f'city_{CITY}.sqlite'}")
        try:
            with CityUnitOfWork(engine, today=TODAY) as uow:
                return uow.registers.residents()
        finally:
            engine.dispose()

    def _scalars(self, query: Any) -> list[Any]:
        engine = make_engine(f"sqlite:///{self.home / f'city_{CITY}.sqlite'}")
        try:
            with engine.connect() as conn:
                return list(conn.execute(query).scalars())
        finally:
            engine.dispose()

    def logged_events(self) -> int:
        return int(self._scalars(select(func.count()).select_from(tables.event_log))[0])

    def sealed(self) -> set[str]:
        """Resident codes with any seal registration."""
        return set(self._scalars(select(tables.seals.c.resident_code)))


@dataclass(frozen=True)
class Session:
    kofu: Kofu
    seed: Result
    kinds: Result
    seeded: list[Resident]
    listing: Result
    shown: Resident
    show: Result
    renamed: Resident
    new_name: str
    event: Result
    mistyped: Resident
    wrong_code: str
    bad_event: Result

    def now(self, code: str) -> Resident:
        return next(p for p in self.kofu.residents() if p.resident_code == code)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def as_stdin(*events: dict[str, Any]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events) + "\n"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Session:
    kofu = Kofu(tmp_path_factory.mktemp("kofu_home"))
    seed, kinds = kofu.run_together(
        (("seed", "--city", CITY, "--residents", "200"), ""),
        (("event", "kinds", "--json"), ""),
    )
    assert seed.returncode == 0, seed.stderr
    seeded = kofu.residents()
    shown = min(seeded, key=lambda p: p.resident_code)
    renamed = next(p for p in seeded if p.relationship == "世帯主" and p is not shown)
    with_seal = kofu.sealed()
    mistyped = max(
        (p for p in seeded if p.age_on(TODAY) >= 15 and p.resident_code not in with_seal),
        key=lambda p: p.resident_code,
    )
    wrong_code = mistyped.resident_code[:-1] + str((int(mistyped.resident_code[-1]) + 1) % 10)
    new_name = f"{renamed.family_name}　花子"
    good = as_stdin(
        {
            "kind": "name_change",
            "resident": renamed.resident_code,
            "effective": "2026-11-23",
            "name": new_name,
            "kana": f"{renamed.kana.split('　')[0]}　ハナコ",
        },
        {
            "kind": "tax_assessment",
            "resident": renamed.resident_code,
            "effective": "2026-11-23",
            "fiscal_year": 2027,
            "municipal_tax": 12_000,
            "prefectural_tax": 8_000,
        },
    )
    bad = as_stdin(
        {"kind": "seal_register", "resident": mistyped.resident_code, "effective": "2026-11-23"},
        {"kind": "seal_abolish", "resident": wrong_code, "effective": "2026-11-23"},
    )
    listing, show, event, bad_event = kofu.run_together(
        (("residents", "--city", CITY, "--json", "--limit", "5"), ""),
        (("show", "--city", CITY, "--resident", shown.resident_code, "--json"), ""),
        (("event", "--city", CITY, "--file", "-"), good),
        (("event", "--city", CITY, "--file", "-"), bad),
    )
    return Session(
        kofu=kofu,
        seed=seed,
        kinds=kinds,
        seeded=seeded,
        listing=listing,
        shown=shown,
        show=show,
        renamed=renamed,
        new_name=new_name,
        event=event,
        mistyped=mistyped,
        wrong_code=wrong_code,
        bad_event=bad_event,
    )


def test_seed_builds_the_city_under_kofu_home(cli: Session) -> None:
    assert "岩手県花巻市 (032051): 200 residents in" in cli.seed.stdout
    assert (cli.kofu.home / f"city_{CITY}.sqlite").is_file()
    assert len(cli.seeded) == 200
    assert all(p.address.text.startswith("岩手県花巻市") for p in cli.seeded)


def test_residents_json_prints_five_lines_with_the_documented_keys(cli: Session) -> None:
    assert cli.listing.returncode == 0, cli.listing.stderr
    rows = json_lines(cli.listing.stdout)
    assert len(rows) == 5 == len(cli.listing.stdout.splitlines())
    for row in rows:
        assert set(row) == SUMMARY_KEYS
        assert luhn.is_valid(row["resident_code"])
        assert stdnum_in.is_valid(row["individual_number"])
        assert row["address"].startswith("岩手県花巻市")
        assert (row["status"], row["sex"] in ("male", "female")) == ("resident", True)
    expected = sorted(p.resident_code for p in cli.seeded)[:5]
    assert [r["resident_code"] for r in rows] == expected


def test_show_json_prints_the_record_with_its_history(cli: Session) -> None:
    assert cli.show.returncode == 0, cli.show.stderr
    [shown] = json_lines(cli.show.stdout)
    assert shown["resident_code"] == cli.shown.resident_code
    assert Resident.model_validate(shown["record"]) == cli.shown
    assert shown["as_of"] is None
    assert shown["history"][-1]["name"] == cli.shown.name
    assert shown["history"][0]["kind"] in ("birth", "move_in")


def test_event_from_stdin_applies_the_batch_and_prints_json_lines(cli: Session) -> None:
    assert cli.event.returncode == 0, cli.event.stderr
    changes = json_lines(cli.event.stdout)
    code = cli.renamed.resident_code
    assert all(set(c) == {"kind", "resident", "effective", "changed"} for c in changes)
    assert (changes[0]["kind"], changes[0]["resident"]) == ("name_change", code)
    assert changes[0]["effective"] == "2026-11-23"
    assert changes[0]["changed"]["name"] == cli.new_name
    assert changes[0]["changed"]["name_history"] == [cli.renamed.name]
    assert changes[-1] == {
        "kind": "tax_assessment",
        "resident": code,
        "effective": "2026-11-23",
        "changed": {"fiscal_year": 2027},
    }
    assert cli.now(code).name == cli.new_name


def test_event_kinds_json_prints_one_line_per_kind_with_its_fields(cli: Session) -> None:
    assert cli.kinds.returncode == 0, cli.kinds.stderr
    kinds = json_lines(cli.kinds.stdout)
    assert len(kinds) == len(cli.kinds.stdout.splitlines())
    assert [k["kind"] for k in kinds] == [k["kind"] for k in event_kinds()]
    for kind in kinds:
        assert {"kind", "fields"} <= set(kind)
        assert kind["fields"]["effective"]["required"] is True
    death = next(k for k in kinds if k["kind"] == "death")
    assert set(death["fields"]) == {"effective", "notified", "resident"}
    assert death["fields"]["resident"]["required"] is True


def test_a_wrong_check_digit_exits_non_zero_naming_it_and_changes_nothing(cli: Session) -> None:
    result = cli.bad_event
    assert result.returncode == 2
    assert result.stderr.startswith("error: event 2: ")
    assert f"resident code {cli.wrong_code} has a wrong check digit" in result.stderr
    assert "no event was applied" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    [error] = json_lines(result.stdout)
    assert (error["error"], error["field"]) == ("InvalidInput", "resident_code")
    assert cli.now(cli.mistyped.resident_code) == cli.mistyped
    assert cli.mistyped.resident_code not in cli.kofu.sealed()  # event 1 was not kept either
    assert cli.kofu.logged_events() == 2  # only the good batch's two events
