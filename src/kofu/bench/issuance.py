"""``kofu bench issuance``: store issuances end to end through the real services over mTLS.

It starts jpki, one seeded city and the center as processes under a
temporary KOFU_HOME, issues one card per kiosk at the city's desk, then runs
N kiosk threads, each signing in with its own card and asking for residence
certificates until M issuances are done (bounded in count and time).  Every
print's QR payload is opened and its holder digest compared with the
kiosk's own card holder: a mismatch is a mis-issuance.  Rendering the same
certificate alone, in the same run, gives the ratio.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from kofu.core.errors import KofuError
from kofu.core.processes import start_service, stop_all

__all__ = ["bench_issuance"]

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from kofu.cli.main import app; app()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return done.stdout


def _kiosk_loop(
    card_path: Path,
    home: Path,
    center: str,
    stop_at: float,
    budget: list[int],
    lock: threading.Lock,
    latencies: list[float],
    problems: list[str],
    expected_digest: str,
) -> None:
    from kofu.card.reader import JpkiCard
    from kofu.card.storage import load_card
    from kofu.center.signing import published_certificates, published_folder
    from kofu.cli.wiring import card_master_key
    from kofu.core.certkinds import CertKind
    from kofu.core.network import client_context, network_identity
    from kofu.core.settings import Settings
    from kofu.documents.payload import open_payload
    from kofu.documents.verify import read_codes
    from kofu.kiosk.client import KioskClient

    settings = Settings(home, None, "")
    element = load_card(card_path, card_master_key(settings))
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    keys = published_certificates(published_folder(home))
    http = httpx.Client(
        verify=client_context(network_identity(home, f"kiosk-{uuid.uuid4().hex[:8]}")), timeout=60
    )
    center_client = KioskClient(center, http)
    checked = 0
    while time.monotonic() < stop_at:
        with lock:
            if budget[0] <= 0:
                return
            budget[0] -= 1
        started = time.perf_counter()
        request_id = f"bench-{uuid.uuid4().hex}"
        try:
            session = center_client.authenticate(card)
            job = center_client.request(session, request_id, "juminhyo", {}, 1, "bench", "bench")
            center_client.printed(request_id)
        except KofuError as exc:
            problems.append(f"refused: {getattr(exc, 'reason', exc.message)}")
            continue
        finally:
            latencies.append(time.perf_counter() - started)
        if job.get("holder_digest") != expected_digest:
            problems.append(f"mis-issuance in {request_id}")
        if checked < 3:  # the full QR decode is costly: a few per kiosk, the payload digest for all
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "print.pdf"
                path.write_bytes(base64.b64decode(job["pdf_base64"]))
                claims = open_payload(read_codes(path)[0], keys)
            if claims.holder_digest != bytes.fromhex(expected_digest)[:16]:
                problems.append(f"mis-issuance in {request_id}")
            checked += 1


def bench_issuance(
    *, kiosks: int, requests: int, seconds: float = 120, workers: int = 2
) -> dict[str, Any]:
    """Issuances per second, latency percentiles, mis-issuances, and the render-alone ratio."""
    from kofu.core.holder import holder_digest

    procs: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW}
        try:
            _cli(env, "seed", "--city", CITY, "--residents", str(max(200, kiosks * 4)))
            many = ["--workers", str(workers)]
            jpki = start_service(["serve", "jpki", *many], env, procs, quiet=True)
            city = start_service(["serve", "city", "--city", CITY, "--mtls", *many], env, procs)
            center = start_service(
                [
                    "serve",
                    "center",
                    "--jpki",
                    jpki["url"],
                    "--city",
                    f"{CITY}={city['url']}",
                    *many,
                ],
                env,
                procs,
            )
            adults = [
                r
                for r in map(
                    json.loads, _cli(env, "residents", "--city", CITY, "--json").splitlines()
                )
                if r["birth_date"] < "2005-01-01" and r["status"] == "resident"
            ][:kiosks]
            cards = []
            for i, person in enumerate(adults):
                path = home / "cards" / f"k{i}.json"
                path.parent.mkdir(exist_ok=True)
                _cli(
                    env | {"KOFU_JPKI_URL": jpki["url"]},
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
                )
                cards.append((path, holder_digest(CITY, person["resident_code"])))
            budget, lock = [requests], threading.Lock()
            latencies: list[float] = []
            problems: list[str] = []
            stop_at = time.monotonic() + seconds
            threads = [
                threading.Thread(
                    target=_kiosk_loop,
                    args=(p, home, center["url"], stop_at, budget, lock, latencies, problems, d),
                )
                for p, d in cards
            ]
            start = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
        finally:
            stop_all(procs)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    render_rate = _render_rate()
    rate = len(latencies) / elapsed
    return {
        "kiosks": len(cards),
        "workers_per_service": workers,
        "issuances": len(latencies),
        "seconds": round(elapsed, 1),
        "issuances_per_second": round(rate, 1),
        "p50_ms": round(quantiles[49] * 1000),
        "p95_ms": round(quantiles[94] * 1000),
        "p99_ms": round(quantiles[98] * 1000),
        "mis_issuances": sum("mis-issuance" in p for p in problems),
        "refused": sum(p.startswith("refused") for p in problems),
        "render_alone_per_second": round(render_rate, 1),
        "ratio_to_render_alone": round(rate / render_rate, 2),
        "date": date.today().isoformat(),
    }


def _render_rate() -> float:
    from kofu.bench.render import bench_render

    return float(bench_render(seconds=2.0, only="juminhyo")["types"]["juminhyo"]["docs_per_second"])
