"""``kofu bench chaos``: kiosks issue while services are killed, restarted and frozen; then the
books of the center, the city and the settlement are reconciled.

jpki, juki, one seeded city and the center run under the supervisor that
``kofu up`` uses (``core/supervise.py``), so a killed service comes back on
its port.  Kiosk threads (the machinery of ``bench/issuance.py``) issue
residence certificates for ``seconds`` and until the last blow is mended (at
most three times ``seconds``, at most ``requests`` issuances), while a
schedule drawn from ``seed`` sends SIGKILL once to each kind of service
(city, center, jpki, juki) and freezes one (SIGSTOP, then SIGCONT a few
seconds later), each blow once every service is up again, so that it
lands on a working system under load.  Once every service is back, and a
request lease (after which the center asks the city what it did under a request
id a killed center left open) and a print timeout have passed, the books are read:

- **lost**: prints a kiosk had confirmed that the center does not hold as printed;
- **stuck**: center issuances neither printed nor voided after the print timeout;
- **charged_twice**: settlement issuances beyond the prints the center holds;
- **charged_unconfirmed**: printed (charged) issuances whose confirmation the kiosk
  never heard back (the kiosk treats them as failed);
- **mis_issued**: prints naming someone other than the card holder, and the
  center's holder-mismatch alarms;
- **unaccounted**: certificates the city's issuance log (交付履歴) shows for the
  store channel that no center issuance carries (matched by content digest).

On PostgreSQL (``database_url``) the services keep their stores in
throw-away schemas of that database, dropped afterwards, and one more blow
ends one of their server connections (``pg_terminate_backend``): the pool
that held it must connect again.  A soak (``duration``) deals the schedule
again every ``seconds``, until ``duration`` has passed or ``issuances`` are
done, whichever comes first.
"""

from __future__ import annotations

import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kofu.bench.issuance import (
    CITY,
    NOW,
    _cli,
    _issue_cards,
    _Kiosk,
    _kiosk_loop,
    _open_fully,
    _people,
    _Run,
    _settlement,
    _throwaway_store,
)
from kofu.city.adapters.juki_watch import wait_for_juki
from kofu.core.errors import KofuError
from kofu.core.settings import Settings
from kofu.core.supervise import GaveUp, Supervisor

__all__ = ["Event", "bench_chaos", "schedule"]

KINDS = ("city", "center", "jpki", "juki")
DATABASE = "database"  # one server connection of the services, ended (PostgreSQL only)
PRINT_TIMEOUT = 3.0  # seconds; short, so abandoned prints are voided within the run
REQUEST_LEASE = 3.0  # seconds; short, so a request a killed center left is recovered in the run
MENDING = 180.0  # seconds the kiosks may issue past three windows while services come back
_TIMERS = ["--print-timeout", str(PRINT_TIMEOUT), "--request-lease", str(REQUEST_LEASE)]


@dataclass(frozen=True)
class Event:
    """At ``at`` seconds into the window: SIGKILL ``service``, or freeze it for ``hold`` seconds."""

    at: float
    action: str  # "kill" or "freeze"
    service: str
    hold: float = 0.0


def schedule(seed: int, seconds: float, *, database: bool = False, rounds: int = 1) -> list[Event]:
    """Each kind of service killed once and one frozen, spread over the first 60 % of the window.

    With ``database`` one server connection is ended too.  ``rounds`` deals
    such a schedule again every ``seconds`` (a soak).  The same seed gives the
    same schedule, so a run that found something can be repeated.
    """
    rng = random.Random(seed)
    events: list[Event] = []
    for round_ in range(rounds):
        order = [*KINDS, DATABASE] if database else list(KINDS)
        rng.shuffle(order)
        actions = [("kill", kind) for kind in order]
        actions.insert(rng.randrange(len(actions) + 1), ("freeze", rng.choice(KINDS)))
        span = 0.6 * seconds / len(actions)
        events += [
            Event(
                at=round(round_ * seconds + 1.0 + i * span + rng.uniform(0, span / 2), 2),
                action=action,
                service=kind,
                hold=round(rng.uniform(1.5, 3.0), 2) if action == "freeze" else 0.0,
            )
            for i, (action, kind) in enumerate(actions)
        ]
    return events


def bench_chaos(
    *,
    kiosks: int = 2,
    requests: int = 1000,
    seconds: float = 30,
    seed: int = 1,
    database_url: str | None = None,
    duration: float | None = None,
) -> dict[str, Any]:
    """Issue under a seeded schedule of kills and a freeze; the reconciliation as counts.

    ``requests`` bounds the issuances; ``duration`` (a soak) deals the
    schedule again every ``seconds`` until then.
    """
    rounds = max(1, int((duration or seconds) // seconds))
    window = rounds * seconds
    events = schedule(seed, seconds, database=database_url is not None, rounds=rounds)
    said: list[str] = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, _throwaway_store(database_url) as (store, _):
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW} | store
        conf = Settings(home, database_url, store.get("KOFU_DATABASE_SCHEMA_PREFIX", ""))
        # Deaths are counted over two rounds: a soak's backoff does not grow round after round.
        keeper = Supervisor(
            env, max_restarts=10, window=2 * seconds + 30, say=said.append, quiet=True
        )
        connections = _Connections(database_url, store.get("PGAPPNAME", ""), seed)
        phases: dict[str, float] = {}
        try:
            with _timed(phases, "setup"):
                run, lanes = _start(keeper, env, conf, kiosks, requests, window)
            with _timed(phases, "issuing"):
                done = _drive(keeper, connections, events, run, lanes, window)
            with _timed(phases, "settling"):
                _settle(keeper, conf)
            with _timed(phases, "checks"):
                _open_fully(lanes, home)
                _whole_again(keeper)
                books = _reconcile(conf, run, lanes)
        except GaveUp as exc:
            raise KofuError(f"chaos: {exc}; {' / '.join(said[-3:])}") from exc
        finally:
            keeper.stop()
    restarts = Counter(keeper.restarted)
    kinds = [*KINDS, DATABASE] if database_url else list(KINDS)
    killed = Counter(e["service"] for e in done if e["action"] == "kill")
    unplanned = sum(max(0, restarts[k] - killed[k]) for k in KINDS)
    restarts[DATABASE] = connections.reconnected()
    return (
        books
        | {
            "seed": seed,
            "kiosks": kiosks,
            "seconds": seconds,
            "rounds": rounds,
            "store": "postgresql" if database_url else "sqlite",
            "confirmed_per_second": round(books["confirmed"] / max(run.window, 1e-9), 1),
            "window_seconds": round(run.window, 1),
            "wall_seconds": round(time.monotonic() - began, 1),
            "phase_seconds": phases,
            "events": done,
            "restarts": {kind: restarts.get(kind, 0) for kind in kinds},
            "unplanned_restarts": unplanned,  # services that died without a blow of the schedule
            "supervisor_log": said[-20:],
        }
    )


@contextmanager
def _timed(phases: dict[str, float], name: str) -> Iterator[None]:
    began = time.monotonic()
    try:
        yield
    finally:
        phases[name] = round(time.monotonic() - began, 1)


class _Connections:
    """The services' server connections on PostgreSQL (found by the run's application name):
    one is ended as a blow; afterwards, whether the services connected again."""

    def __init__(self, url: str | None, application_name: str, seed: int) -> None:
        self.url, self.name, self.rng = url, application_name, random.Random(seed)
        self.ended: set[int] = set()
        self.known: set[int] = set()  # the connections there were at the last blow
        self.seen_after: set[int] = set()

    def _backends(self) -> list[int]:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        from kofu.core.db import sqlalchemy_url

        assert self.url is not None
        engine = create_engine(sqlalchemy_url(self.url), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                query = "SELECT pid FROM pg_stat_activity WHERE application_name = :n ORDER BY pid"
                return [int(p) for (p,) in conn.execute(text(query), {"n": self.name})]
        finally:
            engine.dispose()

    def end_one(self) -> int:
        """End one connection (drawn from the seed); its process id, 0 if there was none."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        from kofu.core.db import sqlalchemy_url

        backends = self._backends()
        if not backends or self.url is None:
            return 0
        pid = self.rng.choice(backends)
        engine = create_engine(sqlalchemy_url(self.url), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        finally:
            engine.dispose()
        self.ended.add(pid)
        self.known = set(backends)
        return pid

    def look(self) -> None:
        """Note connections opened since the last blow (the pools connected again)."""
        if self.ended:
            self.seen_after |= set(self._backends()) - self.known

    def reconnected(self) -> int:
        return len(self.ended) if self.seen_after else 0


def _start(
    keeper: Supervisor,
    env: dict[str, str],
    conf: Settings,
    kiosks: int,
    requests: int,
    seconds: float,
) -> tuple[_Run, list[_Kiosk]]:
    """The services under the supervisor, one card per kiosk, the kiosk threads' run.

    What needs nothing of each other overlaps: the seeding with jpki and juki
    starting, the cards' issuance with the center starting.
    """
    home = conf.home
    keeper.launch("jpki", ["serve", "jpki"])
    keeper.launch("juki", ["serve", "juki"])
    _cli(env, "seed", "--city", CITY, "--residents", str(max(200, kiosks * 8)))
    jpki, juki = keeper.ready("jpki"), keeper.ready("juki")
    city_args = ["serve", "city", "--city", CITY, "--mtls", "--juki", juki["url"]]
    (city,) = keeper.start([("city", city_args)])
    wait_for_juki(conf, juki["url"], [CITY], 120)
    route = ["--jpki", jpki["private"], "--juki", juki["url"], "--city", f"{CITY}={city['url']}"]
    keeper.launch("center", ["serve", "center", *route, *_TIMERS])
    lanes = _issue_cards(env | {"KOFU_JPKI_URL": jpki["private"]}, _people(env, kiosks), home)
    center = keeper.ready("center")
    (home / "prints").mkdir()
    return _Run(home, center["url"], time.monotonic() + seconds, requests, False), lanes


class _Blows:
    """The schedule's blows still to come and the service frozen now; each blow waits until
    every service is up again, so it lands on a working system."""

    def __init__(self, keeper: Supervisor, connections: _Connections, events: list[Event]) -> None:
        self.keeper, self.connections, self.pending = keeper, connections, list(events)
        self.done: list[dict[str, Any]] = []
        self.thaw: tuple[int, float] | None = None  # the frozen pid and when to let it go

    def finished(self) -> bool:
        return not self.pending and self.thaw is None

    def step(self, now: float, under_load: bool) -> None:
        if self.thaw is not None and now >= self.thaw[1]:
            self.release()
        if not self.pending or now < self.pending[0].at or not _whole(self.keeper):
            return
        event = self.pending.pop(0)
        if event.service == DATABASE:
            pid = self.connections.end_one()
        else:
            pid = self.keeper.pid(event.service)
        if event.service == DATABASE:
            pass  # ended on the server; the pool that held it connects again
        elif event.action == "freeze":
            _signal(pid, signal.SIGSTOP)
            self.thaw = (pid, now + event.hold)
        else:
            _signal(pid, signal.SIGKILL)
        dealt = {"at": round(now, 2), "pid": pid, "under_load": under_load}
        self.done.append(asdict(event) | dealt)

    def release(self) -> None:
        if self.thaw is not None:
            _signal(self.thaw[0], signal.SIGCONT)
            self.thaw = None


def _whole(keeper: Supervisor) -> bool:
    return all(map(keeper.is_up, keeper.services))


def _drive(
    keeper: Supervisor,
    connections: _Connections,
    events: list[Event],
    run: _Run,
    lanes: list[_Kiosk],
    seconds: float,
) -> list[dict[str, Any]]:
    """Kiosks issue while this thread deals the blows and keeps the services running.

    The kiosks issue for at least ``seconds`` and until the last blow is mended
    (two seconds with every service up), at most ``3 * seconds`` and three minutes more
    (a service may take long to start again on a busy machine, and every blow is meant to
    fall while the kiosks issue), or the budget.
    """
    threads = [threading.Thread(target=_kiosk_loop, args=(run, k)) for k in lanes]
    window = run.open_window(3 * seconds + MENDING)
    run.ready = threading.Barrier(len(threads) + 1, window, timeout=300)
    for thread in threads:
        thread.start()
    run.ready.wait()
    began, blows, mended = time.monotonic(), _Blows(keeper, connections, events), None
    looked = began
    try:
        while any(t.is_alive() for t in threads) or not blows.finished():
            now = time.monotonic() - began
            keeper.check()
            blows.step(now, any(t.is_alive() for t in threads))
            if connections.ended and time.monotonic() - looked > 1:
                connections.look()
                looked = time.monotonic()
            if blows.finished() and now >= seconds and _whole(keeper):
                mended = now if mended is None else mended
                if now - mended >= 2:
                    run.stop_at = 0.0
            time.sleep(0.1)
    finally:
        blows.release()
        run.stop_at = 0.0  # on any way out, the kiosks stop taking work
        for thread in threads:
            thread.join()
    run.finished = time.monotonic()
    run.window = run.finished - began
    return blows.done


def _settle(keeper: Supervisor, conf: Settings, seconds: float = 120) -> None:
    """Every service up again, then until nothing is pending at the center.

    An issuance left requested is recovered after the request lease and a
    sweep, a print job left unconfirmed is voided after the print timeout and
    a sweep: what is still pending three times that (and ten seconds) after
    every service came back is stuck.  A run where everything ended goes on
    at once.
    """
    _whole_again(keeper, seconds)
    sweep = min(PRINT_TIMEOUT, REQUEST_LEASE) / 5
    give_up = time.monotonic() + 3 * (REQUEST_LEASE + PRINT_TIMEOUT + 2 * sweep) + 10
    while time.monotonic() < give_up and _pending(conf):
        keeper.check()
        time.sleep(0.5)


def _whole_again(keeper: Supervisor, seconds: float = 120) -> None:
    """Until every service is up (one that died outside the schedule comes back too)."""
    deadline = time.monotonic() + seconds
    while not _whole(keeper):
        if time.monotonic() > deadline:
            raise KofuError(f"the services were not all back within {seconds:.0f} s")
        keeper.check()
        time.sleep(0.2)


def _pending(conf: Settings) -> int:
    """Center issuances neither printed nor voided yet."""
    return sum(state in ("requested", "rendered") for _, state, _ in _books(conf)[0])


def _reconcile(conf: Settings, run: _Run, lanes: list[_Kiosk]) -> dict[str, Any]:
    """The center's issuance log, the city's 交付履歴 and the settlement, against the kiosks."""
    center, city_digests, alarms = _books(conf)
    states = {rid: state for rid, state, _ in center}
    confirmed = {rid for k in lanes for rid in k.confirmed}
    printed = {rid for rid, state, _ in center if state == "printed"}
    charged, fees = _settlement(run)
    carried = {digest for _, _, digest in center if digest}
    problems = [p for k in lanes for p in k.problems]
    by_state = Counter(states.values())
    return {
        "lost": sum(states.get(rid) != "printed" for rid in confirmed),
        "stuck": by_state["requested"] + by_state["rendered"],
        "charged_twice": max(0, charged - len(printed)),
        "charged_unconfirmed": len(printed - confirmed),
        "mis_issued": sum("mis-issuance" in p for p in problems) + alarms,
        "unaccounted": sum(digest not in carried for digest in city_digests),
        "confirmed": len(confirmed),
        "center": dict(by_state),
        "charged": charged,
        "fees_charged": fees,
        "city_store_issuances": len(city_digests),
        "refused": dict(sum((k.refused for k in lanes), Counter())),
        "errors": len(problems),
        "error_samples": problems[:10],
    }


def _books(conf: Settings) -> tuple[list[tuple[str, str, str | None]], list[str], int]:
    """(request id, state, content digest) of every center issuance; the city's store digests;
    the center's holder-mismatch alarms.  Read from the parties' stores after the run."""
    from sqlalchemy import func, select

    from kofu.center.adapters import tables as center_tables
    from kofu.city.adapters import tables as city_tables
    from kofu.core.db import make_engine

    engine = make_engine(*conf.database_for("center"))
    try:
        with engine.connect() as conn:
            t = center_tables.issuances
            rows = conn.execute(select(t.c.request_id, t.c.state, t.c.content_digest)).all()
            a = center_tables.alarms
            alarms = conn.scalar(
                select(func.count()).select_from(a).where(a.c.kind == "holder_mismatch")
            )
    finally:
        engine.dispose()
    engine = make_engine(*conf.database_for(f"city_{CITY}"))
    try:
        with engine.connect() as conn:
            log = city_tables.issuance_log
            digests = conn.scalars(
                select(log.c.content_digest).where(log.c.channel == "store")
            ).all()
    finally:
        engine.dispose()
    return [(r, s, d) for r, s, d in rows], list(digests), int(alarms or 0)


def _signal(pid: int, sig: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, sig)
