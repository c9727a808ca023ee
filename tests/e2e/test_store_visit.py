"""A resident at a store, end to end: real processes on 127.0.0.1, mutual TLS, a real card file.

jpki, one city and the center run as `kofu serve ...`; the card is issued
at the city's desk by `kofu card issue`; `kofu kiosk` prints; `kofu verify`
checks the print.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import httpx
import pytest

from kofu.city.services.seeding import seed_city
from kofu.core.db import make_engine, migrate
from kofu.core.network import client_context, network_identity
from services import KOFU, running

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"  # a Tuesday noon


def _kofu(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW, **extra_env}
    return subprocess.run([str(KOFU), *args], capture_output=True, text=True, env=env, timeout=120)


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
        center = stack.enter_context(
            running(
                [
                    "serve",
                    "center",
                    "--jpki",
                    jpki["url"],
                    "--city",
                    f"{CITY}={city['url']}",
                    "--port",
                    "0",
                ],
                home,
                NOW,
            )
        )
        residents = _kofu(
            home, "residents", "--city", CITY, "--json", "--limit", "40"
        ).stdout.splitlines()
        adult = next(r for r in map(json.loads, residents) if r["birth_date"] < "2000-01-01")
        card = home / "card.json"
        issued = _kofu(
            home,
            "card",
            "issue",
            "--city",
            CITY,
            "--resident",
            adult["resident_code"],
            "--pin",
            "1234",
            "--out",
            str(card),
            KOFU_JPKI_URL=jpki["url"],
        )
        assert issued.returncode == 0, issued.stderr
        yield {
            "home": str(home),
            "center": center["url"],
            "card": str(card),
            "name": adult["name"],
            "jpki": jpki["url"],
        }


def _kiosk(system: dict[str, str], out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _kofu(
        Path(system["home"]),
        "kiosk",
        "--card",
        system["card"],
        "--type",
        "juminhyo",
        "--out",
        str(out),
        "--json",
        *args,
        KOFU_CENTER_URL=system["center"],
    )


def test_a_resident_prints_a_residence_certificate(system: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "printed.pdf"
    done = _kiosk(system, out, "--pin", "1234", "--copies", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["fee"] == 400 and summary["city"] == CITY
    verified = _kofu(Path(system["home"]), "verify", str(out), "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["holder_name"] == system["name"]
    home = Path(system["home"])
    with httpx.Client(verify=client_context(network_identity(home, "auditor"))) as client:
        month = client.get(f"{system['center']}/settlement", params={"month": "2026-11"}).json()
    assert month["rows"][0]["fees"] >= 400


def test_refusals_reach_the_resident_in_words(system: dict[str, str], tmp_path: Path) -> None:
    wrong = _kiosk(system, tmp_path / "a.pdf", "--pin", "0000")
    assert wrong.returncode != 0 and "2 tries left" in wrong.stderr
    again = _kiosk(system, tmp_path / "a.pdf", "--pin", "0000")
    assert again.returncode != 0 and "1 try left" in again.stderr
    right = _kiosk(system, tmp_path / "c.pdf", "--pin", "1234")  # a success resets the counter
    assert right.returncode == 0, right.stderr
    item = _kiosk(system, tmp_path / "b.pdf", "--pin", "1234", "--with", "resident_code")
    assert item.returncode != 0 and "never printed at a store" in item.stderr
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()


def test_the_center_refuses_a_client_without_a_network_certificate(system: dict[str, str]) -> None:
    ca = Path(system["home"]) / "network" / "ca.pem"
    import ssl

    with (
        httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post(f"{system['center']}/sessions")
