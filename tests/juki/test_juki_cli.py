"""``kofu juki outbox|add|link|resend`` as a clerk uses them, with the prefecture's server down.

In-process (typer's runner) on a seeded city: the notices wait in manual
linkage, a resend to a server that cannot be reached leaves the notice
``failed`` with the reason, and the outbox shows it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kofu.city.adapters.uow import city_units
from kofu.city.services.juki_cs import CityOutbox
from kofu.city.services.seeding import seed_city
from kofu.cli.main import app
from kofu.core.db import make_engine, migrate
from kofu.core.serve import free_port

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code=CITY, residents=20, seed=2, today=date(2026, 11, 24))
    # as the CS's first turn does
    CityOutbox(city_units(engine)).run(lambda uow: uow.cs.initial_load())
    engine.dispose()
    return home


def _kofu(home: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {"KOFU_HOME": str(home), "KOFU_NOW": NOW}
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    return result.exit_code, json.loads(result.stdout.splitlines()[0])


def test_a_clerk_holds_adds_and_resends_and_sees_why_a_send_failed(home: Path) -> None:
    code, linked = _kofu(home, "juki", "link", "--city", CITY, "--manual", "--note", "CS work")
    assert code == 0 and (linked["mode"], linked["note"]) == ("manual", "CS work")
    _, shown = _kofu(home, "juki", "outbox", "--city", CITY, "--limit", "1")
    assert shown["counts"]["pending"] == 20 and shown["link"]["loaded_at"]
    resident = shown["messages"][0]["resident_code"]
    code, added = _kofu(home, "juki", "add", "--city", CITY, "--resident", resident)
    assert code == 0 and added["state"] == "pending"
    nowhere = f"https://127.0.0.1:{free_port()}"
    code, sent = _kofu(home, "juki", "resend", "--city", CITY, "--seq", "1", "--juki", nowhere)
    assert code == 1 and sent["state"] == "failed" and "could not be reached" in sent["error"]
    _, failed = _kofu(home, "juki", "outbox", "--city", CITY, "--state", "failed")
    assert [m["seq"] for m in failed["messages"]] == [1]
    assert "could not be reached" in failed["messages"][0]["error"]
    assert failed["counts"] == {"pending": 20, "sent": 0, "failed": 1}  # 19 + the one added
    code, bad = _kofu(home, "juki", "outbox", "--city", CITY, "--state", "lost")
    assert code == 2 and bad["field"] == "state"
    code, back = _kofu(home, "juki", "link", "--city", CITY, "--auto")
    assert back["mode"] == "auto" and back["counts"]["failed"] == 1
