"""The whole system for end-to-end tests: jpki, one city and the center as processes, two cards."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest

from kofu.city.services.seeding import seed_city
from kofu.core.db import make_engine, migrate
from services import KOFU, running

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"  # a Tuesday noon


def kofu_cli(
    home: Path, *args: str, stdin: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW, **extra_env}
    return subprocess.run(
        [str(KOFU), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code=CITY, residents=150, seed=11, today=date(2026, 11, 24))
    engine.dispose()
    with ExitStack() as stack:
        jpki = stack.enter_context(running(["serve", "jpki", "--port", "0"], home, NOW))
        city = stack.enter_context(
            running(["serve", "city", "--city", CITY, "--mtls", "--port", "0"], home, NOW)
        )
        links = ["--city", f"{CITY}={city['url']}"]
        center = stack.enter_context(
            running(
                ["serve", "center", "--jpki", jpki["private"], *links, "--port", "0"], home, NOW
            )
        )
        listed = kofu_cli(home, "residents", "--city", CITY, "--json", "--limit", "60").stdout
        adults = [r for r in map(json.loads, listed.splitlines()) if r["birth_date"] < "2000-01-01"]
        cards = {}
        (home / "cards").mkdir()
        for label, person in (
            ("resident", adults[0]),
            ("spare", adults[1]),
            ("blocked", adults[2]),
        ):
            path = home / "cards" / f"{label}.json"
            done = kofu_cli(
                home,
                "card",
                "issue",
                "--city",
                CITY,
                "--resident",
                person["resident_code"],
                "--pin",
                "1234",
                "--out",
                str(path),
                KOFU_JPKI_URL=jpki["private"],
            )
            assert done.returncode == 0, done.stderr
            cards[label] = (str(path), person["name"])
        block = json.dumps(
            {
                "kind": "issuance_block",
                "resident": adults[2]["resident_code"],
                "effective": "2026-11-24",
                "reason": "調査中",
            }
        )
        blocked = kofu_cli(home, "event", "--city", CITY, "--file", "-", stdin=block)
        assert blocked.returncode == 0, blocked.stderr
        kiosk = stack.enter_context(
            running(["serve", "kiosk", "--center", center["url"], "--port", "0"], home, NOW)
        )
        yield {
            "home": str(home),
            "center": center["url"],
            "card": cards["resident"][0],
            "name": cards["resident"][1],
            "spare": cards["spare"][0],
            "kiosk": kiosk["url"],
            "jpki": jpki["private"],
        }
