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
"""

from __future__ import annotations

import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter
from contextlib import suppress
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
)
from kofu.city.adapters.juki_watch import wait_for_juki
from kofu.core.errors import KofuError
from kofu.core.settings import Settings
from kofu.core.supervise import GaveUp, Supervisor

__all__ = ["Event", "bench_chaos", "schedule"]

KINDS = ("city", "center", "jpki", "juki")
PRINT_TIMEOUT = 5.0  # seconds; short, so abandoned prints are voided within the run
REQUEST_LEASE = 5.0  # seconds; short, so a request a killed center left is recovered in the run
_TIMERS = ["--print-timeout", str(PRINT_TIMEOUT), "--request-lease", str(REQUEST_LEASE)]


@dataclass(frozen=True)
class Event:
    """At ``at`` seconds into the window: SIGKILL ``service``, or freeze it for ``hold`` seconds."""

    at: float
    action: str  # "kill" or "freeze"
    service: str
    hold: float = 0.0


def schedule(seed: int, seconds: float) -> list[Event]:
    """Each kind of service killed once and one frozen, spread over the first 60 % of the window.

    The same seed gives the same schedule, so a run that found something can be repeated.
    """
    rng = random.Random(seed)
    order = list(KINDS)
    rng.shuffle(order)
    actions = [("kill", kind) for kind in order]
    actions.insert(rng.randrange(len(actions) + 1), ("freeze", rng.choice(KINDS)))
    span = 0.6 * seconds / len(actions)
    return [
        Event(
            at=round(1.0 + i * span + rng.uniform(0, span / 2), 2),
            action=action,
            service=kind,
            hold=round(rng.uniform(2.0, 4.0), 2) if action == "freeze" else 0.0,
        )
        for i, (action, kind) in enumerate(actions)
    ]


def bench_chaos(
    *, kiosks: int = 2, requests: int = 1000, seconds: float = 30, seed: int = 1
) -> dict[str, Any]:
    """Issue under a seeded schedule of kills and a freeze; the reconciliation as counts."""
    events = schedule(seed, seconds)
    said: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW}
        keeper = Supervisor(env, max_restarts=10, window=seconds + 600, say=said.append, quiet=True)
        try:
            run, lanes = _start(keeper, env, home, kiosks, requests, seconds)
            done = _drive(keeper, events, run, lanes, seconds)
            _settle(keeper)
            _open_fully(lanes, home)
            books = _reconcile(home, run, lanes)
        except GaveUp as exc:
            raise KofuError(f"chaos: {exc}; {' / '.join(said[-3:])}") from exc
        finally:
            keeper.stop()
    restarts = Counter(keeper.restarted)
    return books | {
        "seed": seed,
        "kiosks": kiosks,
        "seconds": seconds,
        "events": done,
        "restarts": {kind: restarts.get(kind, 0) for kind in KINDS},
        "supervisor_log": said[-20:],
    }


def _start(
    keeper: Supervisor, env: dict[str, str], home: Path, kiosks: int, requests: int, seconds: float
) -> tuple[_Run, list[_Kiosk]]:
    """The services under the supervisor, one card per kiosk, the kiosk threads' run.

    What needs nothing of each other overlaps: the seeding with jpki and juki
    starting, the cards' issuance with the center starting.
    """
    keeper.launch("jpki", ["serve", "jpki"])
    keeper.launch("juki", ["serve", "juki"])
    _cli(env, "seed", "--city", CITY, "--residents", str(max(200, kiosks * 8)))
    jpki, juki = keeper.ready("jpki"), keeper.ready("juki")
    city_args = ["serve", "city", "--city", CITY, "--mtls", "--juki", juki["url"]]
    (city,) = keeper.start([("city", city_args)])
    wait_for_juki(Settings(home, None, ""), juki["url"], [CITY], 120)
    route = ["--jpki", jpki["private"], "--juki", juki["url"], "--city", f"{CITY}={city['url']}"]
    keeper.launch("center", ["serve", "center", *route, *_TIMERS])
    lanes = _issue_cards(env | {"KOFU_JPKI_URL": jpki["private"]}, _people(env, kiosks), home)
    center = keeper.ready("center")
    (home / "prints").mkdir()
    return _Run(home, center["url"], time.monotonic() + seconds, requests, False), lanes


class _Blows:
    """The schedule's blows still to come and the service frozen now; each blow waits until
    every service is up again, so it lands on a working system."""

    def __init__(self, keeper: Supervisor, events: list[Event]) -> None:
        self.keeper, self.pending = keeper, list(events)
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
        pid = self.keeper.pid(event.service)
        if event.action == "freeze":
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
    keeper: Supervisor, events: list[Event], run: _Run, lanes: list[_Kiosk], seconds: float
) -> list[dict[str, Any]]:
    """Kiosks issue while this thread deals the blows and keeps the services running.

    The kiosks issue for at least ``seconds`` and until the last blow is mended
    (two seconds with every service up), at most ``3 * seconds`` or the budget.
    """
    threads = [threading.Thread(target=_kiosk_loop, args=(run, k)) for k in lanes]
    run.ready = threading.Barrier(len(threads) + 1, run.open_window(3 * seconds), timeout=300)
    for thread in threads:
        thread.start()
    run.ready.wait()
    began, blows, mended = time.monotonic(), _Blows(keeper, events), None
    try:
        while any(t.is_alive() for t in threads) or not blows.finished():
            now = time.monotonic() - began
            keeper.check()
            blows.step(now, any(t.is_alive() for t in threads))
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
    return blows.done


def _settle(keeper: Supervisor, seconds: float = 120) -> None:
    """Every service up again, then the print timeout and a sweep: nothing may be pending."""
    deadline = time.monotonic() + seconds
    while not _whole(keeper):
        if time.monotonic() > deadline:
            raise KofuError(f"the services were not all back within {seconds:.0f} s")
        keeper.check()
        time.sleep(0.2)
    sweep = min(PRINT_TIMEOUT, REQUEST_LEASE) / 5
    quiet_until = time.monotonic() + REQUEST_LEASE + PRINT_TIMEOUT + 2 * sweep + 2
    while time.monotonic() < quiet_until:
        keeper.check()
        time.sleep(0.2)


def _reconcile(home: Path, run: _Run, lanes: list[_Kiosk]) -> dict[str, Any]:
    """The center's issuance log, the city's 交付履歴 and the settlement, against the kiosks."""
    center, city_digests, alarms = _books(home)
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


def _books(home: Path) -> tuple[list[tuple[str, str, str | None]], list[str], int]:
    """(request id, state, content digest) of every center issuance; the city's store digests;
    the center's holder-mismatch alarms.  Read from the parties' stores after the run."""
    from sqlalchemy import func, select

    from kofu.center.adapters import tables as center_tables
    from kofu.city.adapters import tables as city_tables
    from kofu.core.db import make_engine

    conf = Settings(home, None, "")
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
