"""Wiring the issuance center from settings: its store, its signer, its links, its clock.

``prepare_center`` does once, in the parent process, what every worker
shares: the authority's trust anchor fetched over LGWAN, the store
migrated, the signing key made, the stamp's fonts loaded.  ``Center.app``
then builds one worker's service and API after the fork, so no connection
or client is ever shared between workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from cryptography import x509
from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.center.adapters.links import HttpCities, HttpDirectory, HttpJuki
from kofu.center.adapters.signing import Signer, center_signer, published_folder
from kofu.center.adapters.uow import sql_units
from kofu.center.api.app import create_app
from kofu.center.domain.ports import UnitsOfWork
from kofu.center.services.issuance import CenterService, in_background
from kofu.core.clock import Clock, clock_from_env
from kofu.core.db import make_engine, migrate
from kofu.core.errors import InvalidInput
from kofu.core.network import NetworkIdentity, client_context, network_identity
from kofu.core.settings import Settings

__all__ = ["Center", "center_units", "city_urls", "prepare_center", "seconds_from_env"]


def seconds_from_env(name: str, default: float) -> timedelta:
    """A non-negative number of seconds from the environment, read once at a service's start."""
    text = os.environ.get(name, "").strip()
    if not text:
        return timedelta(seconds=default)
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise InvalidInput(f"{name} is a number of seconds (0 to 86400), not {text!r}", field=name)
    return timedelta(seconds=seconds)


def city_urls(items: list[str]) -> dict[str, str]:
    """``CODE=https://...`` per connected city, as ``kofu serve center --city`` takes them."""
    urls = {}
    for item in items:
        code, sep, url = item.partition("=")
        if not sep or not url.startswith("https://"):
            raise InvalidInput(f"--city takes CODE=https://..., not {item!r}", field="city")
        urls[code] = url
    return urls


@dataclass
class Center:
    """Everything the center's workers share, made once; ``app()`` builds one worker."""

    settings: Settings
    engine: Engine
    clock: Clock
    signer: Signer
    issuer: x509.Certificate
    jpki: str
    cities: dict[str, str]
    juki: str | None
    kiosks: NetworkIdentity  # the stores' network side
    lgwan: NetworkIdentity  # the cities', juki's and jpki's side
    print_timeout: timedelta
    request_lease: timedelta
    skew: timedelta = field(default_factory=lambda: seconds_from_env("KOFU_CLOCK_SKEW", 300))
    keep_good: timedelta = field(default_factory=lambda: seconds_from_env("KOFU_OCSP_CACHE", 5))
    health_kept: timedelta = field(default_factory=lambda: seconds_from_env("KOFU_CITY_HEALTH", 5))
    health_timeout: timedelta = field(
        default_factory=lambda: seconds_from_env("KOFU_CITY_HEALTH_WAIT", 2)
    )

    def service(self) -> CenterService:
        """One worker's service over its own connections and clients."""
        return CenterService(
            sql_units(self.engine),
            self.clock,
            self.signer,
            self.issuer,
            HttpDirectory(
                self.jpki, self.issuer, self.clock, self.lgwan, self.keep_good, self.skew
            ),
            HttpCities(
                self.cities,
                self.lgwan,
                health_kept=self.health_kept,
                health_timeout=self.health_timeout,
            ),
            self.print_timeout,
            HttpJuki(self.juki, self.lgwan) if self.juki else None,
            clock_skew=self.skew,
            request_lease=self.request_lease,
            later=in_background,
        )

    def app(self) -> FastAPI:
        """A worker's API; the sweep turns often enough for the shortest of the two timeouts."""
        self.engine.dispose(close=False)  # a worker opens its own connections, never the parent's
        timeout, lease = self.print_timeout.total_seconds(), self.request_lease.total_seconds()
        return create_app(self.service(), sweep_every=min(30.0, timeout / 5, lease / 5))

    def ready(self, port: int) -> dict[str, Any]:
        """The one JSON line ``kofu serve center`` prints once listening."""
        base = f"https://127.0.0.1:{port}"
        return {
            "service": "center",
            "url": base,
            "status": f"{base}/status",
            "docs": f"{base}/docs",
            "cities": self.cities,
            "juki": self.juki,
            "published_keys": str(published_folder(self.settings.home)),
            "tls": {"ca": str(self.kiosks.ca)},
        }


def center_units(settings: Settings) -> UnitsOfWork:
    """Units of work on the center's own store on this machine (``kofu settle`` without a URL)."""
    engine = make_engine(*settings.database_for("center"))
    migrate(engine, "center")
    return sql_units(engine)


def prepare_center(
    settings: Settings,
    *,
    jpki: str,
    cities: dict[str, str],
    juki: str | None = None,
    print_timeout: timedelta = timedelta(seconds=300),
    request_lease: timedelta = timedelta(seconds=45),
) -> Center:
    """The center over KOFU_HOME/center (key, certificates) and its own database or schema."""
    from kofu.documents.stamp import prepare as prepare_stamp

    if not jpki.startswith("https://"):
        raise InvalidInput(
            f"--jpki takes the authority's private https URL, not {jpki!r}", field="jpki"
        )
    kiosks = network_identity(settings.home, "center")
    lgwan = network_identity(settings.home, "center", "lgwan")
    with httpx.Client(verify=client_context(lgwan), timeout=10) as link:  # the trust anchor
        issuer = x509.load_der_x509_certificate(
            link.get(f"{jpki.rstrip('/')}/ca/auth.der").raise_for_status().content
        )
    engine = make_engine(*settings.database_for("center"))
    migrate(engine, "center")
    center = Center(
        settings=settings,
        engine=engine,
        clock=clock_from_env(running=True),
        signer=center_signer(settings.home),
        issuer=issuer,
        jpki=jpki,
        cities=cities,
        juki=juki,
        kiosks=kiosks,
        lgwan=lgwan,
        print_timeout=print_timeout,
        request_lease=request_lease,
    )
    prepare_stamp()  # fonts and the fixed layer once here, shared by the forked workers
    return center
