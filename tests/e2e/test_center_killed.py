"""A center killed with SIGKILL mid request while the city is frozen: the issuance still ends once.

Real processes on 127.0.0.1 over mutual TLS.  The city is stopped
(SIGSTOP) so the center's request waits on it; the center is killed
(SIGKILL) with the issuance ``requested``; the city goes on (SIGCONT) and
issues or not, as the bytes it had read allow; the center comes back two
minutes later on its clock.  The kiosk's retry of the same request id must
then get one document, with one issue number at the city and one charge.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest_e2e import kofu_cli
from sqlalchemy import Engine, func, select

from kofu.center.adapters import tables as ct
from kofu.city.adapters import tables as cityt
from kofu.city.services.seeding import seed_city
from kofu.cli.wiring import card_master_key
from kofu.core.db import make_engine, migrate
from kofu.core.errors import KofuError
from kofu.core.link import Link
from kofu.core.network import client_context, network_identity
from kofu.core.processes import launch, ready, stop
from kofu.core.settings import Settings
from kofu.kiosk.client import KioskClient

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"  # a Tuesday noon
LATER = "2026-11-24T12:02:00+09:00"  # past the center's lease on a stuck request


@contextmanager
def _service(args: list[str], home: Path, now: str) -> Iterator[tuple[subprocess.Popen[str], Any]]:
    """``kofu ARGS`` with its PID (to freeze or kill it); stopped by that PID afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": now}
    procs: list[subprocess.Popen[str]] = []
    proc = launch(args, env, procs, quiet=True)
    try:
        yield proc, ready(proc)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)  # a frozen process cannot take SIGTERM
        stop(proc)


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _state(engine: Engine, request_id: str) -> str | None:
    i = ct.issuances
    with engine.connect() as conn:
        return conn.execute(select(i.c.state).where(i.c.request_id == request_id)).scalar()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path / f'city_{CITY}.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code=CITY, residents=120, seed=11, today=date(2026, 11, 24))
    engine.dispose()
    return tmp_path


def test_a_killed_center_worker_leaves_no_issuance_stuck(home: Path) -> None:
    city_db = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    center_db = make_engine(f"sqlite:///{home / 'center.sqlite'}")
    with (
        ExitStack() as links,
        _service(["serve", "jpki", "--port", "0"], home, NOW) as (_, jpki),
        _service(["serve", "city", "--city", CITY, "--mtls", "--port", "0"], home, NOW) as (
            city_proc,
            city,
        ),
    ):
        listed = kofu_cli(home, "residents", "--city", CITY, "--json", "--limit", "40").stdout
        rows = [json.loads(line) for line in listed.splitlines()]
        resident = next(r["resident_code"] for r in rows if r["birth_date"] < "2000-01-01")
        card = home / "card.json"
        made = kofu_cli(
            home,
            *("card", "issue", "--city", CITY, "--resident", resident),
            *("--pin", "1234", "--out", str(card)),
            KOFU_JPKI_URL=jpki["private"],
        )
        assert made.returncode == 0, made.stderr
        center_args = [
            "serve",
            "center",
            "--jpki",
            jpki["private"],
            "--city",
            f"{CITY}={city['url']}",
        ]
        kiosk_tls = client_context(network_identity(home, "kiosk"))
        job_args = ("juminhyo", {}, 1, "7-0001", "seven")
        with _service([*center_args, "--port", "0"], home, NOW) as (center_proc, center):
            kiosk = KioskClient(center["url"], links.enter_context(Link(kiosk_tls, timeout=60)))
            master = card_master_key(Settings(home, None, ""))
            warm = kiosk.sign_in(card, master, "1234")
            kiosk.request(warm, "e2e-warm-00001", *job_args)  # the link to the city is open
            kiosk.printed("e2e-warm-00001")
            session = kiosk.sign_in(card, master, "1234")  # a session serves one request
            os.kill(city_proc.pid, signal.SIGSTOP)
            lost: list[BaseException] = []

            def ask() -> None:
                with Link(kiosk_tls, timeout=60) as http:
                    try:
                        KioskClient(center["url"], http).request(
                            session, "e2e-killed-001", *job_args
                        )
                    except KofuError as exc:
                        lost.append(exc)

            asking = threading.Thread(target=ask)
            asking.start()
            for _ in range(300):  # the center has logged the request and waits on the city
                if _state(center_db, "e2e-killed-001") == "requested":
                    break
                time.sleep(0.1)
            assert _state(center_db, "e2e-killed-001") == "requested"
            time.sleep(0.5)  # let the request's bytes reach the city's socket
            os.kill(center_proc.pid, signal.SIGKILL)
            center_proc.wait()
            asking.join(60)
            assert lost and not asking.is_alive()  # the kiosk heard nothing back
        os.kill(city_proc.pid, signal.SIGCONT)
        assert _state(center_db, "e2e-killed-001") == "requested"  # stuck, until recovered
        with _service([*center_args, "--port", "0"], home, LATER) as (_, center):
            kiosk = KioskClient(center["url"], links.enter_context(Link(kiosk_tls, timeout=60)))
            job = kiosk.request(session, "e2e-killed-001", *job_args)  # the kiosk retries
            again = kiosk.request(session, "e2e-killed-001", *job_args)
            assert again.pdf_base64 == job.pdf_base64
            kiosk.printed("e2e-killed-001")
            operator = client_context(network_identity(home, "operator"))
            with httpx.Client(verify=operator) as client:
                month = client.get(f"{center['url']}/settlement", params={"month": "2026-11"})
            assert month.json()["rows"][0]["issuances"] == 2  # the warm-up and this one, once
        lgwan = client_context(network_identity(home, "center", "lgwan"))
        with httpx.Client(verify=lgwan) as client:
            told = client.get(f"{city['url']}/certificates/store/e2e-killed-001").json()
    assert told["state"] == "issued"
    assert _count(city_db, cityt.issuance_log) == 2  # one issue number for the stuck request
    assert _count(center_db, ct.issuances, ct.issuances.c.state == "printed") == 2
