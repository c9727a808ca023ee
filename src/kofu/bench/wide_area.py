"""The wide-area part of ``kofu bench juki``: 広域交付住民票 issued per second.

Real processes over mutual TLS: the national server and the servers of
prefectures 11 and 03 (started by ``kofu.bench.juki``), and the certificate
servers of two demo cities of different prefectures, as ``kofu up`` starts
them (``kofu serve city --mtls --juki PREF_URL --city CODE``): Fukaya
(112186, prefecture 11) is the issuing counter (交付地), Hanamaki (032051,
prefecture 03) the home city (住所地).  The counters are the bench's
threads, each a clerk's desk as ``kofu wide-area issue`` is: Fukaya's store
opened here, Fukaya's own network certificate, one request id per request.
A request goes Fukaya → the server of prefecture 11 → the national server
(a person of another prefecture) → Hanamaki's server → back, and Fukaya
prints the answer on its own paper.  Every certificate is checked: a PDF,
Hanamaki the home city, the household's resident codes as its subjects.
"""

from __future__ import annotations

import contextlib
import itertools
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine

from kofu.bench.juki import NOW, TODAY, juki_network, service_env
from kofu.core.processes import launch, ready, stop_all
from kofu.core.settings import Settings

__all__ = ["HOME", "ISSUING", "bench_wide_area", "measure_wide_area"]

ISSUING = "112186"  # 埼玉県深谷市 (prefecture 11), a demo city: the issuing counter (交付地)
HOME = "032051"  # 岩手県花巻市 (prefecture 03), the other demo city: the home city (住所地)
SUBJECTS = 40  # households asked about, in turn (each request has its own request id)


@dataclass
class _Tally:
    """What the clients measured, shared under a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    took_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    def failed(self, why: str) -> None:
        with self.lock:
            self.errors += 1
            self.first_error = self.first_error or why


def _engine(conf: Settings, code: str) -> Engine:
    from kofu.core.db import make_engine, migrate

    url, schema = conf.database_for(f"city_{code}")
    engine = make_engine(url, schema)
    migrate(engine, "city")
    return engine


@contextlib.contextmanager
def _cities(conf: Settings, env: dict[str, str], prefs: dict[str, str]) -> Iterator[None]:
    """Both cities' servers, each reporting to its prefecture's server; stopped by PID."""
    procs: list[Any] = []
    try:
        for code in (ISSUING, HOME):  # side by side: start-up is mostly imports and fonts
            args = ["serve", "city", "--mtls", "--juki", prefs[code[:2]], "--city", code]
            launch(args, env, procs, quiet=True)
        for proc in list(procs):
            ready(proc)  # also writes the city's entry in the LGWAN address book
        yield
    finally:
        stop_all(procs)


def _households(engine: Engine, today: date) -> list[tuple[str, frozenset[str]]]:
    """Heads of the home city's households and every live member's resident code."""
    from kofu.city.adapters.uow import CityUnitOfWork

    out: list[tuple[str, frozenset[str]]] = []
    with CityUnitOfWork(engine, today=today) as uow:
        for person in uow.registers.residents(limit=SUBJECTS * 10):
            if person.is_resident and person.relationship == "世帯主":
                members = uow.registers.household(person.household_id)
                out.append((person.resident_code, frozenset(m.resident_code for m in members)))
            if len(out) == SUBJECTS:
                break
    return out


def _known(link: Any, heads: list[str], deadline: float) -> bool:
    """Whether juki says, through the issuing city's prefecture, that the home city holds each."""
    from kofu.core.errors import KofuError

    for head in heads:
        while True:
            try:
                held = link.whereabouts(head)
                if held.city == HOME and held.state == "resident":
                    break
            except KofuError:
                pass  # not yet reported: the home city's CS and its prefecture are on their way
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)
    return True


def _client(
    conf: Settings,
    juki: str,
    engine: Engine,
    jobs: _Jobs,
    tally: _Tally,
    deadline: float,
) -> None:
    """One counter: wide-area requests one after the other until the jobs or the time run out."""
    from kofu.city.adapters.citylink import CityLink
    from kofu.city.adapters.config import load_store_rules
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.domain.certificates import CertificateType
    from kofu.city.services.wide_area import issue_wide_area
    from kofu.core.clock import RunningClock, parse_instant

    clock = RunningClock(parse_instant(NOW))
    fee = load_store_rules(conf.home, ISSUING).fees.get(CertificateType.JUMINHYO)
    with CityLink(conf, ISSUING, juki) as link:
        while time.monotonic() < deadline and (job := jobs.take()) is not None:
            head, members = job
            start = time.perf_counter()
            try:
                done = issue_wide_area(
                    uow=CityUnitOfWork(engine, today=clock.today()),
                    code=ISSUING,
                    clock=clock,
                    network=link,
                    request_id=f"wa-bench-{uuid.uuid4().hex}",
                    resident=head,
                    id_check="licence",
                    household="all",
                    fee=fee,
                )
            except Exception as exc:  # counted, and the first one said, not raised
                tally.failed(f"{type(exc).__name__}: {exc}")
                continue
            took = (time.perf_counter() - start) * 1000
            wrong = _wrong(done, members)
            if wrong:
                tally.failed(wrong)
                continue
            with tally.lock:
                tally.took_ms.append(took)


def _wrong(done: Any, members: frozenset[str]) -> str | None:
    """Why a certificate is not the one asked for; None when it is."""
    if not done.certificate.pdf.startswith(b"%PDF-"):
        return "the certificate is not a PDF"
    if done.home_city != HOME or done.issuing_city != ISSUING or done.reprint:
        return f"answered by {done.home_city} at {done.issuing_city} (reprint {done.reprint})"
    if frozenset(done.certificate.subjects) != members:
        return f"subjects {sorted(done.certificate.subjects)}, the household is {sorted(members)}"
    return None


class _Jobs:
    """The households in turn, ``count`` requests in all, handed to the clients under a lock."""

    def __init__(self, households: list[tuple[str, frozenset[str]]], count: int) -> None:
        self.lock = threading.Lock()
        self.source = itertools.islice(itertools.cycle(households), count)

    def take(self) -> tuple[str, frozenset[str]] | None:
        with self.lock:
            return next(self.source, None)


def _summary(tally: _Tally, asked: int, clients: int, took_s: float) -> dict[str, Any]:
    done = len(tally.took_ms)
    out: dict[str, Any] = {
        "issuing_city": ISSUING,
        "home_city": HOME,
        "asked": asked,
        "clients": clients,
        "certificates": done,
        "errors": tally.errors,
        "seconds": round(took_s, 2),
        "per_second": round(done / took_s, 2) if took_s > 0 else 0.0,
    }
    if done:
        q = statistics.quantiles(tally.took_ms, n=100) if done > 1 else [tally.took_ms[0]] * 99
        out |= {"p50_ms": round(q[49], 1), "p99_ms": round(q[98], 1)}
    if tally.first_error:
        out["first_error"] = tally.first_error[:300]
    return out


def measure_wide_area(
    conf: Settings,
    env: dict[str, str],
    prefs: dict[str, str],
    *,
    certificates: int,
    clients: int,
    residents: int,
    seconds: float,
) -> dict[str, Any]:
    """Wide-area certificates per second between the two cities; each part bounded by seconds.

    ``prefs`` are the running prefecture servers' URLs (11 and 03); a city
    not seeded yet is seeded with ``residents`` people first.
    """
    from kofu.city.adapters.citylink import CityLink
    from kofu.city.services.seeding import is_seeded, seed_city
    from kofu.documents.fonts import register_fonts

    register_fonts()  # parsed once before the clock starts, as a city's server does at start
    juki = prefs[ISSUING[:2]]  # the issuing city asks its own prefecture's server
    engines = {code: _engine(conf, code) for code in (ISSUING, HOME)}
    try:
        for seed, (code, engine) in enumerate(engines.items(), start=1):
            if not is_seeded(engine, TODAY):
                seed_city(engine=engine, code=code, residents=residents, seed=seed, today=TODAY)
        households = _households(engines[HOME], TODAY)
        with _cities(conf, env, prefs):
            with CityLink(conf, ISSUING, juki) as link:
                if not _known(link, [h for h, _ in households], time.monotonic() + seconds):
                    return {
                        "certificates": 0,
                        "errors": 0,
                        "skipped": "the home city's records "
                        f"did not reach the national server within {seconds:g} s",
                    }
            tally, jobs = _Tally(), _Jobs(households, certificates)
            start = time.monotonic()
            deadline = start + seconds
            with ThreadPoolExecutor(clients) as pool:
                running = [
                    pool.submit(_client, conf, juki, engines[ISSUING], jobs, tally, deadline)
                    for _ in range(clients)
                ]
                for client in running:
                    client.result()  # a client that could not start is the bench's fault: raise
            return _summary(tally, certificates, clients, time.monotonic() - start)
    finally:
        for engine in engines.values():
            engine.dispose()


def bench_wide_area(
    conf: Settings, *, certificates: int, clients: int, residents: int, seconds: float
) -> dict[str, Any]:
    """The wide-area part alone, on its own Juki-net (national, prefectures 11 and 03)."""
    with juki_network(conf) as urls:
        return measure_wide_area(
            conf,
            service_env(conf),
            urls["prefs"],
            certificates=certificates,
            clients=clients,
            residents=residents,
            seconds=seconds,
        )
