"""Every party's HTTP app built in-process over stores under one folder, and a way to call them.

For the tests of what every service answers to bad input (tests/core): the
city (a small seeded register), the authority (called as the city, whose
network certificate its private routes ask for), juki and the center.  The
center's links to the other parties are in-memory fakes that find no card
and no city, so a request that gets past the center's own checks ends in
the refusal a kiosk would show, never in another process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from sqlalchemy import Engine

from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.api.app import create_app as center_app
from kofu.center.services.issuance import CenterService
from kofu.city.api.app import create_app as city_app
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.seeding import seed_city
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import StoreAnswer, StoreRequest
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import NotFound, Refused
from kofu.core.settings import Settings
from kofu.jpki.api.app import create_app as jpki_app
from kofu.jpki.bootstrap import build_jpki
from kofu.juki.api.app import create_app as juki_app
from kofu.juki.bootstrap import juki_node
from kofu.juki.domain.network import Role

CITY = "032051"
NOW = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))
PARTIES = ["city", "center", "jpki", "juki"]


def _unavailable() -> Refused:
    return Refused("city_unavailable", "no city is connected in this test")


class NoCities:
    """The center's LGWAN link with one city listed and none answering."""

    def issue(self, city: str, request: StoreRequest) -> StoreAnswer:
        raise _unavailable()

    def identity(self, city: str, request: IdentityRequest) -> Identity:
        raise _unavailable()

    def register_domicile(self, city: str, application: DomicileApplication) -> DomicileAnswer:
        raise _unavailable()

    def connected(self) -> list[ConnectedCity]:
        return [ConnectedCity(code=CITY, name="岩手県花巻市")]

    def health(self) -> dict[str, str | None]:
        return {CITY: "岩手県花巻市"}


class NoCards:
    """The authority as the center sees it, knowing no certificate."""

    def lookup(self, serial: str) -> CertificateStatus:
        raise NotFound(f"no certificate {serial}", field="serial")

    def status_of(self, cert: x509.Certificate) -> str:
        return "unknown"


STORES = [f"city_{CITY}", "jpki", "juki", "center"]  # each party's database or schema


def _store(settings: Settings, name: str) -> Engine:
    engine = make_engine(*settings.database_for(name))
    migrate(engine, name.split("_")[0])
    return engine


def _certificate(name: str) -> str:
    """A network certificate (PEM) with ``name`` as its common name, as a client shows it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class AsCaller:
    """ASGI middleware: every request comes with ``name``'s network certificate.

    What ``kofu.core.serve`` passes on once the TLS server has checked the
    client's certificate (the ASGI TLS extension), so a party's own caller
    rules (jpki's: only a city issues and revokes) let the request through.
    """

    def __init__(self, app: Any, name: str) -> None:
        self.app, self.pem = app, _certificate(name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "extensions": {"tls": {"client_cert_chain": [self.pem]}}}
        await self.app(scope, receive, send)


def party_apps(home: Path, settings: Settings | None = None) -> dict[str, FastAPI]:
    """The four services' apps (background jobs not started) over SQLite under ``home``.

    With ``settings`` naming a PostgreSQL database, each party has its schema
    there (``settings.schema_prefix`` + one of ``STORES``).
    """
    settings = settings or Settings(home, None, "")
    city_engine = _store(settings, f"city_{CITY}")
    seed_city(engine=city_engine, code=CITY, residents=40, seed=5, today=date(2026, 11, 24))
    authority = build_jpki(settings, "http://127.0.0.1:8801", NOW)
    juki_engine, center_engine = _store(settings, "juki"), _store(settings, "center")
    center = CenterService(
        sql_units(center_engine),
        NOW,
        center_signer(home),
        authority.authority.cas.issuing[CertKind.AUTH],
        NoCards(),
        NoCities(),
    )
    jpki = jpki_app(authority)
    jpki.add_middleware(AsCaller, name=f"city-{CITY}")  # issuance and revocation: a city's
    return {
        "city": city_app(city_engine, CITY, NOW, StoreRules()),
        "center": center_app(center),
        "jpki": jpki,
        # the national server alone (cities may report to it), with every Juki-net route
        "juki": juki_app(juki_node(juki_engine, NOW, Role("national", direct=True))),
    }


def calling(app: FastAPI) -> Callable[..., httpx.Response]:
    """``call(method, url, **httpx_options)``: one request to ``app`` in-process, its response."""

    def call(method: str, url: str, **options: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://kofu.test") as c:
                return await c.request(method, url, **options)

        return asyncio.run(go())

    return call


async def chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``body`` in pieces, sent without a Content-Length (chunked)."""
    for start in range(0, len(body), size):
        yield body[start : start + size]
