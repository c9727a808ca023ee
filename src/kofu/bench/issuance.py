"""``kofu bench issuance``: store issuances end to end through the real services over mTLS.

It starts jpki, one seeded city and the center as processes (each with
``workers`` worker processes) under a temporary KOFU_HOME, issues one card
per kiosk at the city's desk, then runs N kiosk threads, each signing in
with its own card and asking for residence certificates until M issuances
are done (bounded in count and time).  Every print's holder digest is
compared with the kiosk's own card holder, and each kiosk's first print is
opened fully (QR decoded, signature checked): a mismatch is a mis-issuance.
Rendering the same certificate alone, in the same run, gives the ratio.

With ``chaos`` the run also does what goes wrong at real stores, and the
ledger is checked afterwards: some kiosks never confirm a print (the
center's timeout must void it, and a late confirmation must be refused),
some report a print failure, some resend a request or a confirmation, and
the city is stopped and restarted mid-run.  Every print's first page is
read back (with PDFium) to check it names the card's holder.  The center's settlement
must then charge exactly the confirmed prints, each once.
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
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kofu.bench.postgres import BackendCpu
from kofu.city.adapters.juki_watch import wait_for_juki
from kofu.contracts.kiosk import PrintJob
from kofu.core.db import drop_schemas
from kofu.core.errors import Conflict, KofuError, Refused
from kofu.core.processes import launch, ready, start_service, stop, stop_all
from kofu.core.settings import Settings

__all__ = ["bench_issuance"]

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"
MONTH = NOW[:7]
CHAOS_PRINT_TIMEOUT = 15.0  # seconds; the real center waits five minutes


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


@dataclass
class _Kiosk:
    """One kiosk's card and what the kiosk saw; appended to by its own thread only."""

    card: Path
    holder_digest: str
    holder_name: str
    name: str = field(default_factory=lambda: f"kiosk-{uuid.uuid4().hex[:8]}")  # its certificate
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    confirmed_fees: list[int] = field(default_factory=list)
    confirmed: list[str] = field(default_factory=list)  # request ids the center said printed
    abandoned: list[str] = field(default_factory=list)
    prints: list[Path] = field(default_factory=list)  # kept for reading back (chaos)
    to_open: list[Path] = field(default_factory=list)  # QR decoded and verified after the run
    issued: int = 0
    warmed: bool = False  # its warm-up issuance was confirmed (and charged)
    voided_late: int = 0
    print_failures: int = 0
    retries: int = 0


@dataclass
class _Run:
    home: Path
    center: str
    stop_at: float
    budget: int
    chaos: bool
    rate: float | None = None  # offered issuances a second; None: as fast as answered
    per_visit: int = 0  # certificates one PIN entry asks for (0: the PIN once, before the window)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0
    attempts: int = 0
    began: float = field(default_factory=time.perf_counter)
    finished: float = 0.0  # time.monotonic() when the last kiosk stopped
    window: float = 0.0  # seconds the kiosks issued (chaos)
    ready: threading.Barrier = field(default_factory=lambda: threading.Barrier(1))

    def take(self) -> tuple[int, float] | None:
        """The next request's number and when it starts, or None once the budget is spent.

        The budget counts issuances: a refused request gives its place back,
        up to three attempts per issuance in all (and it ends at ``stop_at``).
        With a ``rate`` the n-th request is due at n / rate seconds from the
        start and its latency counts from then, so a queue that builds up
        shows in the percentiles instead of slowing the offered load down.
        """
        with self.lock:
            if (
                self.started >= self.budget
                or self.attempts >= 3 * self.budget
                or time.monotonic() >= self.stop_at
            ):
                return None
            self.started += 1
            self.attempts += 1
            n = self.attempts
        due = time.perf_counter() if self.rate is None else self.began + (n - 1) / self.rate
        time.sleep(max(0.0, due - time.perf_counter()))
        return n, due

    def open_window(self, seconds: float) -> Any:
        """What starts the timed window, run once every kiosk is warm, before any is let go."""

        def start() -> None:
            self.began = time.perf_counter()
            self.stop_at = time.monotonic() + seconds

        return start

    def give_back(self) -> None:
        with self.lock:
            self.started -= 1


@contextmanager
def _kiosk_client(home: Path, center: str, name: str) -> Iterator[Any]:
    """A link to the center on the network certificate ``name`` (a kiosk's, an operator's)."""
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity
    from kofu.kiosk.client import KioskClient

    identity = network_identity(home, name)
    with Link(client_context(identity), timeout=60) as http:
        yield KioskClient(center, http)


def _names_holder(path: Path, name: str) -> bool:
    """Whether the print's first page names ``name`` (read back with PDFium, then removed).

    PDFium is another implementation than the one that wrote the page (and
    than pypdf, which the center's stamp uses), and reads a page in about a
    millisecond: a tenth of pypdf's text extraction.
    """
    import pypdfium2

    document = pypdfium2.PdfDocument(path.read_bytes())
    try:
        text = document[0].get_textpage().get_text_range()
    finally:
        document.close()
    path.unlink()
    return name in text.replace("\u3000", " ")


def _read_back(lanes: list[_Kiosk]) -> None:
    """Every kept print must name its kiosk's card holder; read on both cores after the run."""
    jobs = [(path, k) for k in lanes for path in k.prints]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        names = pool.map(
            _names_holder,
            [p for p, _ in jobs],
            [k.holder_name for _, k in jobs],
            chunksize=max(1, len(jobs) // 64),
        )
        for (path, kiosk), ok in zip(jobs, names, strict=True):
            if not ok:
                kiosk.problems.append(f"mis-issuance in {path.stem}: the print names someone else")


def _signed_holder(path: Path, home: Path) -> str:
    """The holder digest the print's QR code carries, its signature checked (then removed)."""
    from kofu.center.adapters.signing import published_certificates, published_folder
    from kofu.documents.payload import open_payload
    from kofu.documents.verify import read_codes

    claims = open_payload(read_codes(path)[0], published_certificates(published_folder(home)))
    path.unlink()
    return claims.holder_digest.hex()


def _open_fully(lanes: list[_Kiosk], home: Path) -> None:
    """Each kiosk's first print: QR decoded, signature verified, on both cores after the run."""
    jobs = [(path, k) for k in lanes for path in k.to_open]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        held = pool.map(_signed_holder, [p for p, _ in jobs], [home] * len(jobs))
        for (path, kiosk), digest in zip(jobs, held, strict=True):
            if digest != kiosk.holder_digest[: len(digest)] or len(digest) < 16:
                kiosk.problems.append(f"mis-issuance in {path.stem}: the QR code names another")


def _kiosk_loop(run: _Run, kiosk: _Kiosk) -> None:
    from kofu.card.reader import JpkiCard
    from kofu.card.storage import load_card
    from kofu.core.cardkey import card_master_key
    from kofu.core.certkinds import CertKind
    from kofu.core.settings import Settings

    card = JpkiCard(load_card(kiosk.card, card_master_key(Settings(run.home, None, ""))))
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    with _kiosk_client(run.home, run.center, kiosk.name) as client:
        try:
            _warm_up(kiosk, card, client)
        finally:
            run.ready.wait()  # the timed window opens when every kiosk is warm
        _issue_until_done(run, kiosk, card, client)


def _warm_up(kiosk: _Kiosk, card: Any, client: Any) -> None:
    """One issuance before the clock starts: connections made, every worker's caches filled.

    It is checked and charged like any other; it only does not count.
    """
    request_id = f"bench-warm-{uuid.uuid4().hex}"
    try:
        job = client.request(client.authenticate(card), request_id, "juminhyo", {}, 1, "b", "b")
        client.printed(request_id)
    except KofuError as exc:
        kiosk.problems.append(f"warm-up {request_id}: {exc.message}")
        return
    if job.holder_digest != kiosk.holder_digest:
        kiosk.problems.append(f"mis-issuance in {request_id}")
    kiosk.confirmed_fees.append(job.fee)
    kiosk.confirmed.append(request_id)
    kiosk.warmed = True


def _issue_until_done(run: _Run, kiosk: _Kiosk, card: Any, client: Any) -> None:
    from kofu.core.certkinds import CertKind

    opened_fully, asked = 0, 0
    while (taken := run.take()) is not None:
        n, started = taken
        request_id = f"bench-{uuid.uuid4().hex}"
        try:
            if run.per_visit and asked >= run.per_visit:  # the next resident enters the PIN
                card.verify_pin(CertKind.AUTH, "1234")
                asked = 0
            asked += 1
            # A session is spent on one request: each certificate of a visit signs a challenge
            # of its own, the PIN checked once on the card for the visit.
            session = client.authenticate(card)
            job = client.request(session, request_id, "juminhyo", {}, 1, "bench", "bench")
            kiosk.issued += 1
            if run.chaos and n % 37 == 5:  # the kiosk did not hear the answer and asks again
                kiosk.retries += 1
                again = client.request(session, request_id, "juminhyo", {}, 1, "bench", "bench")
                if again.pdf_base64 != job.pdf_base64:
                    kiosk.problems.append(f"a retry issued again: {request_id}")
            _finish_print(run, kiosk, client, n, request_id, job)
        except Refused as exc:
            kiosk.refused[exc.reason] += 1
            run.give_back()
            if exc.reason.endswith("_unavailable"):
                time.sleep(0.5)  # a resident tries again after a moment, not at once
            continue
        except KofuError as exc:
            kiosk.problems.append(f"{request_id}: {exc.message}")
            continue
        finally:
            kiosk.latencies.append(time.perf_counter() - started)
        pdf = base64.b64decode(job.pdf_base64)
        if job.holder_digest != kiosk.holder_digest:
            kiosk.problems.append(f"mis-issuance in {request_id}")
        if run.chaos:
            kiosk.prints.append(run.home / "prints" / f"{request_id}.pdf")
            kiosk.prints[-1].write_bytes(pdf)
        if opened_fully < 1:  # the full QR decode is costly: one per kiosk, after the run
            kiosk.to_open.append(run.home / "prints" / f"{request_id}-open.pdf")
            kiosk.to_open[-1].write_bytes(pdf)
            opened_fully += 1


def _finish_print(
    run: _Run, kiosk: _Kiosk, client: Any, n: int, request_id: str, job: PrintJob
) -> None:
    """Confirm the print, or (with chaos) fail it, abandon it, or confirm it twice."""
    if run.chaos and n % 23 == 7:
        kiosk.abandoned.append(request_id)  # the machine froze: nobody confirms
        return
    if run.chaos and n % 19 == 3:
        client.voided(request_id, "paper jam")
        kiosk.print_failures += 1
        return
    try:
        client.printed(request_id)
    except Conflict:  # confirmed too late: the center's timeout voided it first, uncharged
        kiosk.voided_late += 1
        return
    if run.chaos and n % 29 == 11:
        client.printed(request_id)  # a confirmation resent
    kiosk.confirmed_fees.append(job.fee)
    kiosk.confirmed.append(request_id)


def _late_confirmations(run: _Run, kiosks: list[_Kiosk]) -> int:
    """After the print timeout, confirming an abandoned print must be refused: count successes."""
    if not any(k.abandoned for k in kiosks):
        return 0
    # the last print was abandoned before the kiosks stopped; the checks since then count
    past_timeout = run.finished + CHAOS_PRINT_TIMEOUT + CHAOS_PRINT_TIMEOUT / 5 + 1
    time.sleep(max(0.0, past_timeout - time.monotonic()))
    accepted = 0
    for kiosk in kiosks:
        with _kiosk_client(run.home, run.center, kiosk.name) as client:  # only its kiosk confirms
            for request_id in kiosk.abandoned:
                try:
                    client.printed(request_id)
                    accepted += 1
                except Conflict:
                    pass
    return accepted


def _settlement(run: _Run) -> tuple[int, int]:
    """Issuances and fees the center charges this month, read back on an operator's certificate."""
    with _kiosk_client(run.home, run.center, "operator") as client:
        response = client.http.get(f"{run.center}/settlement", params={"month": MONTH})
    rows = response.json()["rows"]
    return sum(r["issuances"] for r in rows), sum(r["fees"] for r in rows)


def _restart_city_midway(
    run: _Run, env: dict[str, str], procs: list[subprocess.Popen[str]], at: int, args: list[str]
) -> threading.Thread:
    """Stop the city (every worker) once 40 % of the budget has started, then start it again."""

    def restart() -> None:
        while run.started < run.budget * 0.4 and time.monotonic() < run.stop_at:
            time.sleep(0.1)
        stop(procs[at], grace=30)
        time.sleep(1.0)  # kiosks meet a city that is down
        procs[at] = launch(args, env, [], quiet=True)
        ready(procs[at])

    thread = threading.Thread(target=restart, name="restart-city")
    thread.start()
    return thread


def _people(env: dict[str, str], count: int) -> list[dict[str, Any]]:
    """Adults in distinct households, so a print naming the holder names nobody else's card."""
    seen: set[str] = set()
    out = []
    for person in map(json.loads, _cli(env, "residents", "--city", CITY, "--json").splitlines()):
        adult = person["birth_date"] < "2005-01-01" and person["status"] == "resident"
        if adult and person["household_id"] not in seen:
            seen.add(person["household_id"])
            out.append(person)
    return out[:count]


def _issue_cards(env: dict[str, str], people: list[dict[str, Any]], home: Path) -> list[_Kiosk]:
    """One card per person through the desk's whole flow (``kofu card issue``, as a clerk would).

    Four desks at once: each card is a process of its own, mostly starting up.
    """
    from concurrent.futures import ThreadPoolExecutor

    from kofu.core.holder import holder_digest

    (home / "cards").mkdir(exist_ok=True)

    def issue(i: int, person: dict[str, Any]) -> _Kiosk:
        path = home / "cards" / f"k{i}.json"
        args = ["card", "issue", "--city", CITY, "--resident", person["resident_code"]]
        try:
            _cli(env, *args, "--pin", "1234", "--out", str(path))
        except subprocess.CalledProcessError as exc:
            raise KofuError(f"card for {person['resident_code']}: {exc.stderr.strip()}") from exc
        digest = holder_digest(CITY, person["resident_code"])
        return _Kiosk(path, digest, person["name"].replace("\u3000", " "))

    with ThreadPoolExecutor(max_workers=4) as desks:
        return list(desks.map(issue, range(len(people)), people))


def bench_issuance(
    *,
    kiosks: int,
    requests: int,
    seconds: float = 120,
    workers: int = 2,
    chaos: bool = False,
    rate: float | None = None,
    per_visit: int = 0,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Issuances per second, latency percentiles, mis-issuances, and the render-alone ratio.

    With ``database_url`` (PostgreSQL) the services keep their stores in
    throw-away schemas of that database, dropped afterwards, and the server's
    CPU counts as one more party; without it, in SQLite files of the run.
    """
    procs: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory() as tmp, _throwaway_store(database_url) as (store, server):
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW} | store
        try:
            _cli(env, "seed", "--city", CITY, "--residents", str(max(200, kiosks * 8)))
            many = ["--workers", str(workers)]
            jpki = start_service(["serve", "jpki", *many], env, procs, quiet=True)
            juki = start_service(["serve", "juki", *many], env, procs, quiet=True)
            city_args = ["serve", "city", "--city", CITY, "--mtls", "--juki", juki["url"], *many]
            city_at = len(procs)  # where the city's process is kept, to restart it
            city = start_service(city_args, env, procs, quiet=True)
            wait_for_juki(Settings(home, None, ""), juki["url"], [CITY], 120)
            timeout = ["--print-timeout", str(CHAOS_PRINT_TIMEOUT)] if chaos else []
            route = [
                "--jpki",
                jpki["private"],
                "--juki",
                juki["url"],
                "--city",
                f"{CITY}={city['url']}",
            ]
            center = start_service(["serve", "center", *route, *many, *timeout], env, procs)
            desk_env = env | {"KOFU_JPKI_URL": jpki["private"]}
            lanes = _issue_cards(desk_env, _people(env, kiosks), home)
            run = _Run(
                home, center["url"], time.monotonic() + seconds, requests, chaos, rate, per_visit
            )
            (home / "prints").mkdir()
            port = city["url"].rsplit(":", 1)[1]
            restart = (
                _restart_city_midway(run, env, procs, city_at, [*city_args, "--port", port])
                if chaos
                else None
            )
            threads = [threading.Thread(target=_kiosk_loop, args=(run, k)) for k in lanes]
            run.ready = threading.Barrier(len(threads) + 1, run.open_window(seconds), timeout=300)
            for th in threads:
                th.start()
            run.ready.wait()
            start = run.began
            services = {"jpki": 0, "juki": 1, "city": city_at, "center": len(procs) - 1}
            before = _cpu(procs, services, server)
            for th in threads:
                th.join()
            elapsed = time.perf_counter() - start
            run.finished = time.monotonic()
            spent = _spent(before, _cpu(procs, services, server), sum(k.issued for k in lanes))
            backends = server.backends() if server is not None else None
            if restart is not None:
                restart.join()
            _read_back(lanes)
            _open_fully(lanes, home)
            ledger = _ledger(run, lanes) if chaos else {}
        finally:
            stop_all(procs)
    return (
        _summary(lanes, elapsed, workers)
        | {"offered_per_second": rate, "per_visit": per_visit, "cpu_ms_per_issuance": spent}
        | {"store": "postgresql" if database_url else "sqlite", "database_backends": backends}
        | ledger
    )


@contextmanager
def _throwaway_store(url: str | None) -> Iterator[tuple[dict[str, str], BackendCpu | None]]:
    """The services' environment for a store of their own, and the server's CPU meter.

    On PostgreSQL every schema of the run shares one random prefix and is
    dropped afterwards; the services connect under an application name of
    the run, by which the meter finds the server's backends.
    """
    if url is None:
        yield {}, None
        return
    prefix = f"kofu_bench_{uuid.uuid4().hex[:10]}_"
    env = {
        "KOFU_DATABASE_URL": url,
        "KOFU_DATABASE_SCHEMA_PREFIX": prefix,
        "PGAPPNAME": prefix.rstrip("_"),
    }
    try:
        with BackendCpu(url, env["PGAPPNAME"]) as server:
            yield env, server
    finally:
        drop_schemas(url, prefix)


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a service and every worker it forked; None off Linux."""
    ticks, total, pids = os.sysconf("SC_CLK_TCK"), 0.0, [pid]
    try:
        while pids:
            at = pids.pop()
            fields = Path(f"/proc/{at}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{at}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
    except (OSError, ValueError, IndexError):
        return None
    return total


def _cpu(
    procs: list[subprocess.Popen[str]], services: dict[str, int], server: BackendCpu | None
) -> dict[str, Any]:
    """CPU seconds so far of each service (with its process id), the kiosks and the server."""
    taken: dict[str, Any] = {
        n: (procs[i].pid, _cpu_seconds(procs[i].pid)) for n, i in services.items()
    }
    if server is not None:
        taken["database"] = (0, server.seconds())
    return taken | {"kiosks": (os.getpid(), time.process_time())}


def _spent(before: dict[str, Any], after: dict[str, Any], issued: int) -> dict[str, Any]:
    """Milliseconds of CPU per issuance in the timed window, by party and in all.

    A service restarted in the window (the city, with chaos) has no figure.
    """
    spent: dict[str, Any] = {}
    for name, (pid, seconds) in before.items():
        pid_after, seconds_after = after[name]
        same = pid == pid_after and seconds is not None and seconds_after is not None
        spent[name] = (
            round((seconds_after - seconds) * 1000 / issued, 1) if same and issued else None
        )
    known = [v for v in spent.values() if v is not None]
    spent["all"] = round(sum(known), 1) if len(known) == len(before) else None
    return spent


def _ledger(run: _Run, lanes: list[_Kiosk]) -> dict[str, Any]:
    """What the center charged against what the kiosks confirmed."""
    late = _late_confirmations(run, lanes)
    charged, fees = _settlement(run)
    confirmed = sum(len(k.confirmed_fees) for k in lanes)
    return {
        "confirmed": confirmed,
        "warm_ups": sum(k.warmed for k in lanes),
        "charged": charged,
        "fees_confirmed": sum(sum(k.confirmed_fees) for k in lanes),
        "fees_charged": fees,
        "double_charges": max(0, charged - confirmed),
        "abandoned": sum(len(k.abandoned) for k in lanes),
        "late_confirmations_accepted": late,
        "print_failures": sum(k.print_failures for k in lanes),
        "confirmed_after_timeout": sum(k.voided_late for k in lanes),
        "retried_requests": sum(k.retries for k in lanes),
    }


def _summary(lanes: list[_Kiosk], elapsed: float, workers: int) -> dict[str, Any]:
    latencies = [x for k in lanes for x in k.latencies]
    issued = sum(k.issued for k in lanes)
    problems = [p for k in lanes for p in k.problems]
    refused: Counter[str] = sum((k.refused for k in lanes), Counter())
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    render_rate = _render_rate()
    rate = issued / elapsed
    return {
        "kiosks": len(lanes),
        "workers_per_service": workers,
        "requests": len(latencies),
        "issuances": issued,
        "seconds": round(elapsed, 1),
        "issuances_per_second": round(rate, 1),
        "p50_ms": round(quantiles[49] * 1000),
        "p95_ms": round(quantiles[94] * 1000),
        "p99_ms": round(quantiles[98] * 1000),
        "mis_issuances": sum("mis-issuance" in p for p in problems),
        "errors": problems[:20],
        "refused": dict(refused),
        "render_alone_per_second": round(render_rate, 1),
        "ratio_to_render_alone": round(rate / render_rate, 2),
        "date": date.today().isoformat(),
    }


def _render_rate() -> float:
    from kofu.bench.render import bench_render

    return float(bench_render(seconds=2.0, only="juminhyo")["types"]["juminhyo"]["docs_per_second"])
