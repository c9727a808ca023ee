"""Wiring a city from settings: its store, its store rules, its links to juki and the authority.

``prepare_city`` does once, in the parent process, what every worker
shares (the store migrated, the rules read, the fonts parsed); ``City.app``
builds one worker's API after the fork.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.city.adapters.config import load_certificate_defaults, load_deputy, load_store_rules
from kofu.city.adapters.jpki_http import HttpAuthority
from kofu.city.adapters.uow import CityUnitOfWork, city_units
from kofu.city.api.app import create_app
from kofu.city.domain.certificates import Deputy, Item
from kofu.city.domain.city import CityProfile
from kofu.city.domain.ports import CityUnits
from kofu.city.domain.store_rules import StoreRules
from kofu.city.store import city_engine
from kofu.core.clock import Clock, clock_from_env
from kofu.core.network import NetworkIdentity, network_identity
from kofu.core.settings import Settings

__all__ = [
    "JUKI_EVERY",
    "City",
    "certificate_defaults",
    "city_deputy",
    "prepare_city",
    "remote_authority",
]

JUKI_EVERY = 1.0  # seconds between two turns of the city's CS (notices, codes, 転入通知)


@dataclass
class City:
    """What a city's workers share, made once; ``app()`` builds one worker."""

    code: str
    engine: Engine
    clock: Clock
    rules: StoreRules
    profile: CityProfile
    identity: NetworkIdentity | None  # LGWAN, with --mtls
    report: Callable[[], object] | None  # the CS turn, with --juki or --mtls
    settings: Settings | None = None
    juki: str | None = None

    def app(self) -> FastAPI:
        self.engine.dispose(close=False)  # a worker opens its own connections, never the parent's
        background = (JUKI_EVERY, self.report) if self.report else None
        return create_app(self.engine, self.code, self.clock, self.rules, background)

    def ready(self, port: int) -> dict[str, Any]:
        """The one JSON line ``kofu serve city`` prints once listening.

        On LGWAN the city also writes its address to the network's address
        book, where other cities find it (wide-area certificates, special moves).
        """
        base = f"{'https' if self.identity else 'http'}://127.0.0.1:{port}"
        if self.identity is not None and self.settings is not None:
            from kofu.city.adapters.citylink import publish_address

            publish_address(self.settings.home, self.code, base, self.juki)
        ready: dict[str, Any] = {
            "service": "city",
            "city": self.code,
            "name": f"{self.profile.prefecture}{self.profile.name}",
            "url": base,
            "store": f"{base}/certificates/store",
            "counter": f"{base}/certificates/counter",
            "docs": f"{base}/docs",
        }
        if self.identity is not None:
            ca = self.identity.ca
            ready["tls"] = {"ca": str(ca), "client_certificates": str(ca.parent)}
        return ready


def prepare_city(settings: Settings, code: str, *, mtls: bool, juki: str | None) -> City:
    """City ``code`` over its store (seeded before), its store rules, Juki-net when given."""
    from kofu.documents.fonts import register_fonts

    engine = city_engine(settings, code)
    with CityUnitOfWork(engine) as uow:
        profile = uow.city()  # refuses a city never seeded, with the command to run
    identity = network_identity(settings.home, f"city-{code}", "lgwan") if mtls else None
    clock, rules = clock_from_env(running=True), load_store_rules(settings.home, code)
    report = _cs_turn(settings, code, engine, juki, clock) if juki else None
    if identity is not None:  # the 転入通知 owed to old cities go with the same turn
        report = _with_notices(settings, code, engine, juki, clock, report)
    register_fonts()  # parsed once here, shared by the forked workers
    return City(code, engine, clock, rules, profile, identity, report, settings, juki)


def _cs_turn(
    settings: Settings, code: str, engine: Engine, juki: str, clock: Clock
) -> Callable[[], object]:
    """The city's CS turn (notices, codes), made by whichever worker holds the city's lock.

    Every ``KOFU_JUKI_CHECK_SECONDS`` (6 hours; the first a minute after the
    start) the turn also checks the register against the prefecture's server.
    """
    import os
    import time

    from kofu.city.services.juki_cs import cs_turn
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link
    from kofu.core.network import client_context

    lock_path = settings.home / f"city-{code}.juki.lock"
    units = city_units(engine)
    links: list[JukiLink] = []  # made in the worker, after the fork

    def report() -> object:
        if not links:
            lgwan = network_identity(settings.home, f"city-{code}", "lgwan")
            links.append(JukiLink(juki, Link(client_context(lgwan), timeout=30), f"city-{code}"))
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another worker is reporting
            done = cs_turn(units, links[0], clock.today())
            if time.monotonic() >= next_check[0]:  # 整合性確認 with the CS's counterpart, j1100
                next_check[0] = time.monotonic() + check_every
                _periodic_check(settings, code, units, links[0], clock)
            return done

    check_every = float(os.environ.get("KOFU_JUKI_CHECK_SECONDS", 6 * 3600))
    next_check = [time.monotonic() + min(check_every, 60.0)]
    return report


def _periodic_check(
    settings: Settings, code: str, units: CityUnits, pref: Any, clock: Clock
) -> None:
    """The periodic consistency check with the prefecture's server; its result in a file.

    ``KOFU_HOME/juki-net/check-CODE.json`` keeps the last result, and a
    drift is logged, so staff see it before anyone asks; ``kofu juki check``
    compares with the national server too, and repairs.
    """
    import json
    import logging

    from kofu.city.services.juki_cs import check_consistency
    from kofu.core.errors import KofuError

    result: dict[str, Any]
    try:
        result = check_consistency(units, {f"pref-{code[:2]}": pref}, clock.today())
    except KofuError as exc:
        result = {"city": code, "consistent": None, "error": exc.message}
    result["checked_at"] = clock.now().isoformat()
    folder = settings.home / "juki-net"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"check-{code}.json").write_text(json.dumps(result, ensure_ascii=False, default=str))
    if result.get("consistent") is False:
        drifts = [d for d in result["differences"] if d["cause"] != "pending"]
        logging.getLogger("kofu.city").warning(
            "Juki-net consistency check of city %s: %d differences", code, len(drifts)
        )


def _with_notices(
    settings: Settings,
    code: str,
    engine: Engine,
    juki: str | None,
    clock: Clock,
    report: Callable[[], object] | None,
) -> Callable[[], object]:
    """The background turn, plus the 転入通知 still owed to old cities (special move-ins)."""
    from kofu.city.adapters.citylink import CityLink
    from kofu.city.services.special_move_in import deliver_notices

    links: list[CityLink] = []  # made in the worker, after the fork

    def turn() -> object:
        if not links:
            links.append(CityLink(settings, code, juki))
        uow = CityUnitOfWork(engine, today=clock.today())
        sent = deliver_notices(uow=uow, network=links[0], clock=clock)
        return (report() if report else None), sent

    return turn


@cache
def remote_authority(url: str, home: Path, code: str) -> HttpAuthority:
    """The authority's private link as city ``code`` (its LGWAN certificate), one per process."""
    return HttpAuthority(url, network_identity(home, f"city-{code}", "lgwan"))


def certificate_defaults(home: Path, city: str) -> frozenset[Item]:
    """The items this city prints on residence certificates unless asked not to (its TOML).

    Read here, not in the issuance service: the caller passes them in
    (``IssueRequest.parse(defaults=...)``), so the service reads no file.
    """
    return load_certificate_defaults(home, city)


def city_deputy(home: Path, city: str) -> Deputy | None:
    """The 職務代理者 the city's TOML names, with the period they certify in (passed in)."""
    return load_deputy(home, city)
