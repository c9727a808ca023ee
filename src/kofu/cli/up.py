"""``kofu up``: the whole system on this machine, one process per party, on 127.0.0.1.

The authority (plain HTTP for CRLs and OCSP, as relying parties expect;
issuance and status on mutual TLS), the two demo cities and the issuance
center (mutual TLS with certificates from the private network CA made on
first start).  The demo cities are seeded and each
gets a demo card on the first start; a second start reuses everything under
KOFU_HOME.  Every service listens on a free port unless ``--port`` asks for
one, and is kept running: one that dies is started again on the same port
(``core/supervise.py``).  Ctrl-C (or SIGTERM) stops every process by its PID;
a ``kofu up`` killed outright takes its services with it (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from kofu.cli.common import clock, emit, guarded, settings
from kofu.cli.wiring import wait_for_juki
from kofu.core.errors import InvalidInput, KofuError
from kofu.core.supervise import Supervisor

PORTS_ENV = "KOFU_UP_PORTS"  # e.g. "jpki=8801,center=8443": fixed ports, the rest free
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
        kept = uow.cards.card(_card_id(path)) if path.exists() else None
        if kept is not None:  # the card of an earlier start stays its holder's, whatever
            resident = kept.resident_code  # the demo did since (a move-out ends the 印鑑 …)
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


def _card_id(path: Path) -> str:
    """The id a card file names (read without the card's keys); "" if it is not a card file."""
    from kofu.card.storage import card_id_of

    try:
        return card_id_of(path)
    except KofuError:
        return ""


def up(
    residents: Annotated[
        int, typer.Option(help="residents per demo city on the first start")
    ] = 20_000,
    port: Annotated[
        list[str] | None,
        typer.Option(
            "--port",
            help="NAME=PORT for jpki, juki, juki-pref-NN, center, kiosk, verifier, office-CODE "
            "or a city code (repeat); "
            f"default {PORTS_ENV} or free ports",
        ),
    ] = None,
    max_restarts: Annotated[
        int, typer.Option(min=0, help="restarts of one service within 5 minutes before giving up")
    ] = 5,
) -> None:
    """Start jpki, Juki-net (national and prefecture servers), the center and the demo cities."""
    from kofu.cli.samples import DEMO_CITIES, ensure_seeded, issue_samples

    env = dict(os.environ)
    env["KOFU_HOME"] = str(settings().home)
    signal.signal(signal.SIGTERM, _interrupt)
    keeper = Supervisor(env, max_restarts=max_restarts, say=_say)
    try:
        with guarded():
            offices = [f"office-{c}" for c in DEMO_CITIES]
            prefectures = sorted({c[:2] for c in DEMO_CITIES})  # Juki-net: one server each
            pref_names = [f"juki-pref-{p}" for p in prefectures]
            names = (
                "jpki",
                "juki",
                *pref_names,
                "center",
                "kiosk",
                "verifier",
                *DEMO_CITIES,
                *offices,
            )
            ports = _ports(port, names)
            for code in DEMO_CITIES:
                ensure_seeded(code, residents)
            samples = settings().home / "samples"
            if not samples.exists():
                with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the ready line
                    issue_samples(samples, residents, as_json=False)
            jpki, juki = keeper.start(
                [
                    ("jpki", ["serve", "jpki", *ports["jpki"]]),
                    ("juki", ["serve", "juki", "--national", *ports["juki"]]),
                ]
            )
            pref_args = ["serve", "juki", "--upstream", juki["url"], "--prefecture"]
            started_prefs = keeper.start(
                [(f"juki-pref-{p}", [*pref_args, p, *ports[f"juki-pref-{p}"]]) for p in prefectures]
            )
            prefs = dict(zip(prefectures, started_prefs, strict=True))
            city_args = ["serve", "city", "--mtls", "--juki"]
            started = keeper.start(
                [
                    (f"city-{c}", [*city_args, prefs[c[:2]]["url"], "--city", c, *ports[c]])
                    for c in DEMO_CITIES
                ]
            )
            cities = dict(zip(DEMO_CITIES, started, strict=True))
            links = [f"--city={c}={r['url']}" for c, r in cities.items()]
            route = ["--jpki", jpki["private"], "--juki", juki["url"], *links]
            keeper.launch("center", ["serve", "center", *route, *ports["center"]])  # it starts …
            cards = [_demo_card(c, jpki["private"], env) for c in DEMO_CITIES]
            cards.append(_domiciled_card(jpki["private"], env))
            wait_for_juki(settings(), juki["url"], list(cities), 300, say=True)  # … they report
            center = keeper.ready("center")
            kiosk_args = ["serve", "kiosk", "--center", center["url"], *ports["kiosk"]]
            staff_file = _demo_staff(DEMO_CITIES)
            office_args = ["serve", "office", "--jpki", jpki["private"]]
            kiosk_page, verifier_page, *office_pages = keeper.start(
                [
                    ("kiosk", kiosk_args),
                    ("verifier", ["serve", "verifier", *ports["verifier"]]),
                    *[
                        (f"office-{c}", [*office_args, "--city", c, *ports[f"office-{c}"]])
                        for c in DEMO_CITIES
                    ],
                ]
            )
            emit(
                {
                    "jpki": jpki["url"],
                    "jpki_private": jpki["private"],
                    "juki": juki["url"],
                    "juki_national": juki["url"],
                    "juki_prefectures": {p: r["url"] for p, r in prefs.items()},
                    "cities": {c: r["url"] for c, r in cities.items()},
                    "center": center["url"],
                    "kiosk": kiosk_page["url"],
                    "verifier": verifier_page["url"],
                    "kiosk_cli": f"KOFU_CENTER_URL={center['url']} .venv/bin/kofu kiosk "
                    "--card FILE --pin PIN --type juminhyo --out FILE.pdf",
                    "cards": cards,
                    "samples": str(samples),
                    "home": str(settings().home),
                    "offices": {
                        c: r["url"] for c, r in zip(DEMO_CITIES, office_pages, strict=True)
                    },
                    "staff_passwords": str(staff_file),
                }
            )
            sys.stdout.flush()
            keeper.watch()  # a dead service is started again; a crash loop raises GaveUp
    except KeyboardInterrupt:
        pass
    finally:
        keeper.stop()


def _ports(given: list[str] | None, names: tuple[str, ...]) -> dict[str, list[str]]:
    """``--port NAME=PORT`` (or KOFU_UP_PORTS, comma-separated) as serve arguments; 0 elsewhere."""
    items = given or [i for i in os.environ.get(PORTS_ENV, "").replace(",", " ").split() if i]
    chosen = dict.fromkeys(names, 0)
    for item in items:
        name, _, number = item.partition("=")
        if name not in chosen or not number.isdigit() or not 0 <= int(number) < 65536:
            raise InvalidInput(
                f"--port takes NAME=PORT with NAME one of {', '.join(names)}, not {item!r}",
                field="port",
            )
        chosen[name] = int(number)
    return {name: ["--port", str(number)] for name, number in chosen.items()}


def _say(text: str) -> None:
    print(f"kofu up: {text}", file=sys.stderr, flush=True)


def _domiciled_card(jpki_url: str, env: dict[str, str]) -> dict[str, Any]:
    """The card of the demo person who lives in Fukaya and is domiciled in Hanamaki."""
    from kofu.cli.samples import ensure_domiciled_demo

    facts = ensure_domiciled_demo()
    card = _demo_card(facts["city"], jpki_url, env, facts["resident_code"], "domiciled")
    return card | {k: facts[k] for k in ("domicile_city", "domicile", "head")}


def _demo_staff(cities: tuple[str, ...] | list[str]) -> str:
    """One account per role in each demo city on its first start; passwords in a 0600 file."""
    import json

    from kofu.cli.office import ensure_demo_staff, write_secret_json

    path = settings().home / "office-staff.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    made = {c: p for c in cities if (p := ensure_demo_staff(c, settings())) is not None}
    if made:
        write_secret_json(path, known | made)
    return str(path)


def _interrupt(*_: object) -> None:
    """SIGTERM stops the system the way Ctrl-C does."""
    raise KeyboardInterrupt
