"""``kofu up``: the whole system on this machine, one process per party, on 127.0.0.1.

The authority (plain HTTP for CRLs and OCSP, as relying parties expect;
issuance and status on mutual TLS), the two demo cities and the issuance
center (mutual TLS with certificates from the private network CA made on
first start).  The demo cities are seeded and each
gets a demo card on the first start; a second start reuses everything under
KOFU_HOME.  Ctrl-C (or SIGTERM) stops every process by its PID.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Annotated, Any

import typer

from kofu.cli.common import clock, emit, guarded, settings
from kofu.cli.wiring import wait_for_juki
from kofu.core.processes import launch, ready, start_service, start_services, stop_all

JPKI_PORT = 8801
DEMO_PIN, DEMO_PASSWORD = "1234", "KOFU2026"


def _demo_card(
    code: str, jpki_url: str, env: dict[str, str], resident: str | None = None, label: str = ""
) -> dict[str, Any]:
    """A card for an adult of the city, issued at its desk once; later starts reuse the file."""
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.store import city_engine

    path = settings().home / "cards" / f"{label or code}.json"
    engine = city_engine(settings(), code)
    with CityUnitOfWork(engine, today=clock().today()) as uow:
        holder = uow.registers.resident(resident) if resident else uow.registers.sample_holder()
        cards = uow.cards.cards_of(holder.resident_code) if holder else []
    assert holder is not None
    if not path.exists() or not cards:
        path.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from kofu.cli.main import app; app()",
                "card",
                "issue",
                "--city",
                code,
                "--resident",
                holder.resident_code,
                "--pin",
                DEMO_PIN,
                "--password",
                DEMO_PASSWORD,
                "--out",
                str(path),
            ],
            capture_output=True,
            text=True,
            env=env | {"KOFU_JPKI_URL": jpki_url},
        )
        if done.returncode != 0:
            raise SystemExit(f"the demo card for {code} could not be issued: {done.stderr.strip()}")
    return {
        "city": code,
        "file": str(path),
        "pin": DEMO_PIN,
        "password": DEMO_PASSWORD,
        "holder": holder.name,
    }


def up(
    residents: Annotated[
        int, typer.Option(help="residents per demo city on the first start")
    ] = 20_000,
) -> None:
    """Start jpki, the issuance center and the two demo cities; print one JSON line when ready."""
    from kofu.cli.samples import DEMO_CITIES, ensure_seeded, issue_samples

    procs: list[subprocess.Popen[str]] = []
    env = dict(os.environ)
    env["KOFU_HOME"] = str(settings().home)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with guarded():
            for code in DEMO_CITIES:
                ensure_seeded(code, residents)
            samples = settings().home / "samples"
            if not samples.exists():
                with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the ready line
                    issue_samples(samples, residents, as_json=False)
            jpki, juki = start_services(
                [["serve", "jpki", "--port", str(JPKI_PORT)], ["serve", "juki"]], env, procs
            )
            city_args = ["serve", "city", "--mtls", "--juki", juki["url"]]
            started = start_services([[*city_args, "--city", c] for c in DEMO_CITIES], env, procs)
            cities = dict(zip(DEMO_CITIES, started, strict=True))
            links = [f"--city={c}={r['url']}" for c, r in cities.items()]
            route = ["--jpki", jpki["private"], "--juki", juki["url"], *links]
            starting = launch(["serve", "center", *route], env, procs)  # it starts while …
            cards = [_demo_card(c, jpki["private"], env) for c in DEMO_CITIES]
            cards.append(_domiciled_card(jpki["private"], env))
            wait_for_juki(settings(), juki["url"], list(cities), 300, say=True)  # … they report
            center = ready(starting)
            kiosk_page = start_service(["serve", "kiosk", "--center", center["url"]], env, procs)
            emit(
                {
                    "jpki": jpki["url"],
                    "jpki_private": jpki["private"],
                    "juki": juki["url"],
                    "cities": {c: r["url"] for c, r in cities.items()},
                    "center": center["url"],
                    "kiosk": kiosk_page["url"],
                    "kiosk_cli": f"KOFU_CENTER_URL={center['url']} .venv/bin/kofu kiosk "
                    "--card FILE --pin PIN --type juminhyo --out FILE.pdf",
                    "cards": cards,
                    "samples": str(samples),
                    "home": str(settings().home),
                }
            )
            sys.stdout.flush()
            while all(p.poll() is None for p in procs):
                time.sleep(0.5)
            raise SystemExit("a service stopped; stopping the others")
    except KeyboardInterrupt:
        pass
    finally:
        stop_all(procs)


def _domiciled_card(jpki_url: str, env: dict[str, str]) -> dict[str, Any]:
    """The card of the demo person who lives in Fukaya and is domiciled in Hanamaki."""
    from kofu.cli.samples import ensure_domiciled_demo

    facts = ensure_domiciled_demo()
    card = _demo_card(facts["city"], jpki_url, env, facts["resident_code"], "domiciled")
    return card | {k: facts[k] for k in ("domicile_city", "domicile", "head")}


def _interrupt(*_: object) -> None:
    """SIGTERM stops the system the way Ctrl-C does."""
    raise KeyboardInterrupt
