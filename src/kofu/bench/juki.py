"""``kofu bench juki``: register changes reaching the national server through Juki-net.

Real processes over mutual TLS: the national server and the servers of
prefectures 11 and 03, each on its own store (SQLite files, or schemas of
one PostgreSQL database).  Four measurements, each bounded in count and time:

1. **load** — one seeded city's first load (every record once) through its
   CS outbox, the prefecture's server and on to the national server:
   records per second, end to end.
2. **changes** — register changes (births) made one transaction at a time
   while the city's CS runs its turn every 0.1 s: the end-to-end lag of
   each notice, from the city's write to the national server's store
   (p50/p99).  The prefecture's server forwards once a second.
3. **cities** — 10, 100 and 1,000 simulated cities of prefecture 11, each
   with its own network certificate and sequence, sending a batch at the
   same moment: how the lag to the national server grows with the number
   of cities reporting at once.
4. **wide_area** — wide-area residence certificates (広域交付住民票) issued at
   Fukaya's counter for Hanamaki's residents, through both cities' servers
   and Juki-net: certificates per second, p50/p99 (``kofu.bench.wide_area``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from kofu.core.identifiers import IndividualNumber, LocalGovernmentCode, ResidentCode
from kofu.core.processes import start_service, start_services, stop_all
from kofu.core.settings import Settings

__all__ = ["NOW", "TODAY", "bench_juki", "juki_network", "service_env"]

CITY = "112186"  # Fukaya, prefecture 11
NOW = "2026-11-24T12:00:00+09:00"
TODAY = date(2026, 11, 24)
PREFECTURES = ("11", "03")  # the demo cities' (Fukaya's, Hanamaki's), as ``kofu up`` runs them
WIDE_AREA_CLIENTS = 4  # counters asking at once
WIDE_AREA_HOME = 1_000  # the home city's residents: a certificate reads one household of them


def service_env(conf: Settings) -> dict[str, str]:
    """The environment of the bench's services: its KOFU_HOME, its clock, its store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(conf.home), "KOFU_NOW": NOW}
    if conf.database_url:
        env |= {
            "KOFU_DATABASE_URL": conf.database_url,
            "KOFU_DATABASE_SCHEMA_PREFIX": conf.schema_prefix,
        }
    return env


@contextlib.contextmanager
def juki_network(conf: Settings) -> Iterator[dict[str, Any]]:
    """The national server and the servers of prefectures 11 and 03; stopped by PID."""
    env = service_env(conf)
    procs: list[subprocess.Popen[str]] = []
    try:
        national = start_service(["serve", "juki", "--national"], env, procs, quiet=True)
        upstream = ["serve", "juki", "--upstream", national["url"], "--prefecture"]
        prefs = start_services([[*upstream, p] for p in PREFECTURES], env, procs, quiet=True)
        urls = {p: r["url"] for p, r in zip(PREFECTURES, prefs, strict=True)}
        yield {"national": national["url"], "pref": urls["11"], "prefs": urls}
    finally:
        stop_all(procs)


def _link(conf: Settings, url: str, name: str) -> Any:
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity

    identity = network_identity(conf.home, name, "lgwan")
    return JukiLink(url, Link(client_context(identity), timeout=60), name.removeprefix("juki-"))


def _held(conf: Settings) -> int:
    engine = _engine(conf, "juki")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM identities")).scalar_one())
    finally:
        engine.dispose()


def _engine(conf: Settings, party: str) -> Any:
    from kofu.core.db import make_engine

    url, schema = conf.database_for(party)
    return make_engine(url, schema)


def _lags(conf: Settings, since: datetime) -> list[float]:
    engine = _engine(conf, "juki")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT recorded_at, received_at FROM received WHERE received_at >= :s"),
                {"s": since},
            ).all()
    finally:
        engine.dispose()
    out = []
    for recorded, received in rows:
        a, b = _instant(recorded), _instant(received)
        out.append((b - a).total_seconds())
    return out


def _instant(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _summary(lags: list[float]) -> dict[str, Any]:
    if not lags:
        return {"notices": 0}
    q = statistics.quantiles(lags, n=100) if len(lags) > 1 else [lags[0]] * 99
    return {"notices": len(lags), "lag_p50_s": round(q[49], 3), "lag_p99_s": round(q[98], 3)}


def _wait_held(conf: Settings, count: int, deadline: float) -> bool:
    while _held(conf) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _load_and_changes(
    conf: Settings, urls: dict[str, Any], residents: int, changes: int, seconds: float
) -> dict[str, Any]:
    from kofu.city.adapters.uow import city_units
    from kofu.city.services.juki_cs import cs_turn
    from kofu.city.services.seeding import seed_city
    from kofu.core.db import migrate

    city = _engine(conf, f"city_{CITY}")
    migrate(city, "city")
    seed_city(engine=city, code=CITY, residents=residents, seed=1, today=TODAY)
    link = _link(conf, urls["pref"], f"city-{CITY}")
    start = time.monotonic()
    deadline = start + seconds
    while (
        cs_turn(city_units(city), link, TODAY, batches=1000).get("sent", 0)
        and time.monotonic() < deadline
    ):
        pass
    loaded = _wait_held(conf, residents, deadline)
    load_s = time.monotonic() - start
    out: dict[str, Any] = {
        "load": {
            "records": residents,
            "complete": loaded,
            "seconds": round(load_s, 2),
            "records_per_second": round(residents / load_s),
        }
    }
    out["changes"] = _changes(conf, city, link, residents, changes, seconds)
    city.dispose()
    return out


def _changes(
    conf: Settings, city: Any, link: Any, residents: int, changes: int, seconds: float
) -> dict[str, Any]:
    from kofu.city.adapters.uow import CityUnitOfWork, city_units
    from kofu.city.services.events import apply_events
    from kofu.city.services.juki_cs import cs_turn
    from kofu.core.clock import FixedClock

    with CityUnitOfWork(city, today=TODAY) as uow:
        mother = uow.registers.sample_holder()
    assert mother is not None
    event = {
        "kind": "birth",
        "effective": "2026-11-20",
        "mother": mother.resident_code,
        "name": "深谷　一郎",
        "kana": "フカヤ　イチロウ",
        "sex": "male",
    }
    since, stop = datetime.now(UTC), threading.Event()

    def sender() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):
                cs_turn(city_units(city), link, TODAY)
            time.sleep(0.1)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    clock = FixedClock(datetime.fromisoformat(NOW))
    deadline = time.monotonic() + seconds
    made = 0
    while made < changes and time.monotonic() < deadline:
        apply_events(uow=CityUnitOfWork(city), events=[event], clock=clock)
        made += 1
        time.sleep(0.02)
    complete = _wait_held(conf, residents + made, deadline + 30)
    stop.set()
    thread.join(10)
    return {"changes": made, "complete": complete, **_summary(_lags(conf, since))}


def _notice(city: str, seq: int, n: int) -> dict[str, Any]:
    base = f"{n:010d}"
    return {
        "seq": seq,
        "record": {
            "resident_code": str(ResidentCode.from_base(base)),
            "individual_number": str(IndividualNumber.from_base(f"9{base}")),
            "name": "模擬　太郎",
            "birth_date": "1980-01-01",
            "sex": "male",
            "address": "埼玉県模擬市1番",
            "city": city,
            "state": "resident",
            "version": 1,
            "since": "2020-01-01",
        },
        "reason": "move_in",
        "effective": "2026-11-20",
        "recorded_at": datetime.now(UTC).isoformat(),
    }


def _cities(
    conf: Settings, urls: dict[str, Any], counts: list[int], per_city: int, seconds: float
) -> list[dict[str, Any]]:
    """Simulated cities of prefecture 11 sending a batch each, all at once."""
    every = (str(LocalGovernmentCode.from_base(f"11{i:03d}")) for i in range(1000))
    codes = [c for c in every if c != CITY][: max(counts)]  # the measured city sends its own
    links = {code: _link(conf, urls["pref"], f"city-{code}") for code in codes}
    next_seq = dict.fromkeys(codes, 1)
    serial = iter(range(9_000_000_000, 10**10))
    results = []
    for asked in counts:
        count = min(asked, len(codes))  # a prefecture has 1,000 codes, one is the measured city
        before = _held(conf)
        batches = {}
        for code in codes[:count]:
            batches[code] = [
                _notice(code, next_seq[code] + k, next(serial)) for k in range(per_city)
            ]
            next_seq[code] += per_city
        since = datetime.now(UTC)
        start = time.monotonic()

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda code, b=batches: _send(links[code], b[code]), list(batches)))
        complete = _wait_held(conf, before + count * per_city, start + seconds)
        took = time.monotonic() - start
        results.append(
            {
                "cities": count,
                "notices": count * per_city,
                "complete": complete,
                "seconds": round(took, 2),
                "records_per_second": round(count * per_city / took),
                **_summary(_lags(conf, since)),
            }
        )
    return results


def _send(link: Any, notices: list[dict[str, Any]]) -> None:
    for notice in notices:  # stamped as sent, so the lag is the network's, not the queue's here
        notice["recorded_at"] = datetime.now(UTC).isoformat()
    link.send(notices)


def _one(
    conf: Settings,
    residents: int,
    changes: int,
    counts: list[int],
    per_city: int,
    seconds: float,
    wide_area: int,
) -> dict[str, Any]:
    from kofu.bench.wide_area import measure_wide_area

    with juki_network(conf) as urls:
        out = _load_and_changes(conf, urls, residents, changes, seconds)
        out["cities"] = _cities(conf, urls, counts, per_city, seconds)
        if wide_area:
            out["wide_area"] = measure_wide_area(
                conf,
                service_env(conf),
                urls["prefs"],
                certificates=wide_area,
                clients=WIDE_AREA_CLIENTS,
                residents=min(residents, WIDE_AREA_HOME),
                seconds=seconds,
            )
    return out


def bench_juki(
    *,
    residents: int,
    changes: int,
    counts: list[int],
    per_city: int,
    seconds: float,
    postgres_url: str | None,
    wide_area: int = 0,
) -> dict[str, Any]:
    """The four measurements on SQLite and, when reachable, on PostgreSQL (a throwaway schema)."""
    from kofu.core.db import drop_schemas

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kofu-bench-juki-") as folder:
        conf = Settings(home=Path(folder) / "sqlite", database_url=None, schema_prefix="")
        out["sqlite"] = _one(conf, residents, changes, counts, per_city, seconds, wide_area)
        url = postgres_url or "postgresql://postgres@127.0.0.1:5432/test"
        prefix = f"bench_juki_{secrets.token_hex(4)}_"
        try:
            conf = Settings(home=Path(folder) / "pg", database_url=url, schema_prefix=prefix)
            out["postgresql"] = _one(conf, residents, changes, counts, per_city, seconds, wide_area)
        except (Exception, SystemExit) as exc:  # no server: say so, not fail the whole bench
            out["postgresql"] = {"skipped": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"}
        finally:
            with contextlib.suppress(Exception):
                drop_schemas(url, prefix)
    return out
