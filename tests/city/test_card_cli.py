"""``kofu card`` run as a user runs it: KOFU_HOME, KOFU_NOW, the authority in-process.

Starting the command costs seconds, so the module runs each invocation once, side
by side where they do not depend on each other: the seed; then the whole desk flow
for one resident (``card issue --resident``) beside an issue with a mistyped PIN;
then ``card status`` beside ``card report-lost``.  The tests check what each one
printed and what the city and the authority stored.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from sqlalchemy import select

from kofu.city.adapters import tables
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import Resident
from kofu.core.birthdays import birthday_after
from kofu.core.db import make_engine
from kofu.jpki.adapters import tables as jpki_tables

KOFU = Path(sys.executable).with_name("kofu")  # the venv's console script
CITY = "032051"  # 岩手県花巻市
TODAY = date(2026, 11, 23)  # KOFU_NOW
STATUS_KEYS = {
    "card_id",
    "state",
    "expires_on",
    "auth_tries_left",
    "auth_certificate_pem",
    "sign_tries_left",
    "sign_certificate_pem",
}

Result = subprocess.CompletedProcess[str]


class Kofu:
    """Runs ``kofu`` in a folder of its own with its own KOFU_HOME (SQLite) and KOFU_NOW."""

    def __init__(self, home: Path, work: Path) -> None:
        self.home, self.work = home, work
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("KOFU_DATABASE_URL", "KOFU_DATABASE_SCHEMA_PREFIX", "KOFU_JPKI_URL")
        }
        self.env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-11-23T10:00:00+09:00"}

    def run_together(self, *runs: Sequence[str]) -> list[Result]:
        started = [
            subprocess.Popen(
                [str(KOFU), *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env=self.env,
                cwd=self.work,
            )
            for args in runs
        ]
        results = []
        for process in started:
            out, err = process.communicate(timeout=120)
            results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
        return results

    def _rows(self, database: str, table: Any) -> list[dict[str, Any]]:
        engine = make_engine(f"sqlite:///{self.home / database}")
        try:
            with engine.connect() as conn:
                return [dict(r._mapping) for r in conn.execute(select(table))]
        finally:
            engine.dispose()

    def city_rows(self, table: Any) -> list[dict[str, Any]]:
        return self._rows(f"city_{CITY}.sqlite", table)

    def certificates(self) -> list[dict[str, Any]]:
        return self._rows("jpki.sqlite", jpki_tables.certificates)

    def residents(self) -> list[Resident]:
        engine = make_engine(f"sqlite:///{self.home / f'city_{CITY}.sqlite'}")
        try:
            with CityUnitOfWork(engine, today=TODAY) as uow:
                return [p for p in uow.registers.residents() if p.is_resident]
        finally:
            engine.dispose()


@dataclass(frozen=True)
class Session:
    kofu: Kofu
    seed: Result
    holder: Resident
    other: Resident
    issue: Result
    mistyped: Result
    status: Result
    lost: Result


def one_json(result: Result) -> dict[str, Any]:
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    parsed = json.loads(lines[0])
    assert isinstance(parsed, dict)
    return parsed


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Session:
    kofu = Kofu(tmp_path_factory.mktemp("kofu_home"), tmp_path_factory.mktemp("desk"))
    [seed] = kofu.run_together(("seed", "--city", CITY, "--residents", "200"))
    assert seed.returncode == 0, seed.stderr
    adults = [p for p in kofu.residents() if p.age_on(TODAY) >= 18]
    holder, other = adults[0], adults[1]
    common = ("--city", CITY, "--password", "ABC123", "--json")
    issue, mistyped = kofu.run_together(
        ("card", "issue", *common, "--resident", holder.resident_code, "--pin", "1234",
         "--out", "card.json"),
        ("card", "issue", *common, "--resident", other.resident_code, "--pin", "12345",
         "--out", "mistyped.json"),
    )  # fmt: skip
    assert issue.returncode == 0, issue.stderr
    card_id = one_json(issue)["card_id"]
    status, lost = kofu.run_together(
        ("card", "status", "--card", "card.json", "--json"),
        ("card", "report-lost", "--city", CITY, "--card-id", card_id, "--json"),
    )
    return Session(kofu, seed, holder, other, issue, mistyped, status, lost)


def test_issue_runs_the_whole_desk_flow_and_writes_the_card(cli: Session) -> None:
    issued = one_json(cli.issue)
    person = cli.holder
    assert issued["resident_code"] == person.resident_code
    assert issued["card_id"].startswith(f"{CITY}-20261123-")
    assert (issued["issued_on"], issued["state"]) == ("2026-11-23", "active")
    assert issued["expires_on"] == birthday_after(person.birth_date, TODAY, 10).isoformat()
    assert issued["sign_serial"] and issued["auth_serial"]
    assert "issuer_secret" not in issued  # the city's transport key never leaves the desk
    card = cli.kofu.work / "card.json"
    assert Path(issued["file"]) == Path("card.json")
    assert card.is_file() and stat.S_IMODE(card.stat().st_mode) == 0o600
    [application] = cli.kofu.city_rows(tables.card_applications)
    assert (application["resident_code"], application["status"]) == (
        person.resident_code,
        "issued",
    )
    [slot] = cli.kofu.city_rows(tables.issuance_slots)
    assert json.loads(slot["data"])["booked"] == 1


def test_status_shows_the_card_as_its_holder_sees_it(cli: Session) -> None:
    assert cli.status.returncode == 0, cli.status.stderr
    status, issued = one_json(cli.status), one_json(cli.issue)
    assert set(status) == STATUS_KEYS
    assert (status["card_id"], status["state"], status["expires_on"]) == (
        issued["card_id"],
        "active",
        issued["expires_on"],
    )
    assert (status["auth_tries_left"], status["sign_tries_left"]) == (3, 5)
    serials = [
        f"{x509.load_pem_x509_certificate(status[f'{k}_certificate_pem'].encode()).serial_number:x}"
        for k in ("auth", "sign")
    ]
    assert serials == [issued["auth_serial"], issued["sign_serial"]]


def test_report_lost_suspends_the_card_and_revokes_both_certificates(cli: Session) -> None:
    assert cli.lost.returncode == 0, cli.lost.stderr
    lost, issued = one_json(cli.lost), one_json(cli.issue)
    assert (lost["card_id"], lost["state"], lost["state_changed_on"]) == (
        issued["card_id"],
        "suspended",
        "2026-11-23",
    )
    assert "issuer_secret" not in lost
    [card] = cli.kofu.city_rows(tables.cards)
    assert (card["card_id"], card["state"]) == (issued["card_id"], "suspended")
    [message] = cli.kofu.city_rows(tables.outbox)  # delivered by the command itself
    assert json.loads(message["payload"])["cause"] == "loss"
    assert message["delivered_at"] is not None
    revoked = {
        int(c["serial"], 16): (c["kind"], c["status"], c["cause"])
        for c in cli.kofu.certificates()
        if c["card_id"] == issued["card_id"]
    }
    assert revoked == {
        int(issued["auth_serial"], 16): ("auth", "revoked", "loss"),
        int(issued["sign_serial"], 16): ("sign", "revoked", "loss"),
    }


def test_a_mistyped_pin_exits_non_zero_and_writes_nothing(cli: Session) -> None:
    result = cli.mistyped
    assert result.returncode == 2
    assert "4 digits" in result.stderr
    assert "Traceback" not in result.stderr
    assert one_json(result)["error"] == "InvalidInput"
    assert not (cli.kofu.work / "mistyped.json").exists()
    assert sorted(p.name for p in cli.kofu.work.iterdir()) == ["card.json"]
    codes = {r["resident_code"] for r in cli.kofu.city_rows(tables.card_applications)}
    assert cli.other.resident_code not in codes
    assert {c["resident_code"] for c in cli.kofu.certificates()} == {cli.holder.resident_code}
