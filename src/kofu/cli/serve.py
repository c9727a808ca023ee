"""``kofu serve PARTY``: one service alone on 127.0.0.1; one JSON line of its URLs when ready."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from kofu.cli.common import guarded, settings
from kofu.core.clock import clock_from_env
from kofu.core.network import network_identity
from kofu.core.serve import free_port, serve_forever

app = typer.Typer(help="Run one service alone.", no_args_is_help=True)


@app.command("jpki")
def jpki(
    port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="worker processes sharing the port")
    ] = 1,
) -> None:
    """The JPKI authority: CA certificates, CRLs, OCSP, issuance and revocation."""
    from kofu.jpki.api.app import create_app
    from kofu.jpki.bootstrap import build_jpki

    with guarded():
        port = port or free_port()
        base = f"http://127.0.0.1:{port}"
        conf, clock = settings(), clock_from_env(running=True)
        build_jpki(conf, base, clock).engine.dispose()  # keys and store ready before any worker
        ready = {
            "service": "jpki",
            "url": base,
            "crl": {k: f"{base}/crl/{k}.crl" for k in ("sign", "auth")},
            "ocsp": {k: f"{base}/ocsp/{k}" for k in ("sign", "auth")},
            "ca": {k: f"{base}/ca/{k}.der" for k in ("root", "sign", "auth")},
            "docs": f"{base}/docs",
        }
        serve_forever(lambda: create_app(build_jpki(conf, base, clock)), port, ready, None, workers)


@app.command("city")
def city(
    city: Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")],
    port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
    mtls: Annotated[
        bool, typer.Option(help="HTTPS, clients need a network-CA certificate")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="worker processes sharing the port")
    ] = 1,
) -> None:
    """One city: its register, counter, store certificate server and card desk (seed it first)."""
    from kofu.city.adapters.config import load_store_rules
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.api.app import create_app
    from kofu.city.store import city_engine

    with guarded():
        conf = settings()
        engine = city_engine(conf, city)
        with CityUnitOfWork(engine) as uow:
            profile = uow.city()  # refuses a city never seeded, with the command to run
        port = port or free_port()
        identity = network_identity(conf.home, f"city-{city}", "lgwan") if mtls else None
        base = f"{'https' if mtls else 'http'}://127.0.0.1:{port}"
        clock, rules = clock_from_env(running=True), load_store_rules(conf.home, city)

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            return create_app(engine, city, clock, rules)

        ready: dict[str, object] = {
            "service": "city",
            "city": city,
            "name": f"{profile.prefecture}{profile.name}",
            "url": base,
            "store": f"{base}/certificates/store",
            "counter": f"{base}/certificates/counter",
            "docs": f"{base}/docs",
        }
        if identity is not None:
            ready["tls"] = {"ca": str(identity.ca), "client_certificates": str(identity.ca.parent)}
        serve_forever(build, port, ready, identity, workers)


@app.command("center")
def center(
    jpki: Annotated[
        str, typer.Option("--jpki", help="the authority's URL, e.g. http://127.0.0.1:8801")
    ],
    cities: Annotated[list[str], typer.Option("--city", help="CODE=URL of a city (repeat)")],
    port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="worker processes sharing the port")
    ] = 1,
    print_timeout: Annotated[
        float, typer.Option(min=1, help="seconds a print may stay unconfirmed before it voids")
    ] = 300,
) -> None:
    """The issuance center: kiosks in over mTLS, cities out over mTLS, the authority for status."""
    import httpx
    from cryptography import x509

    from kofu.center.api.app import create_app
    from kofu.center.links import HttpCities, HttpDirectory
    from kofu.center.service import CenterService
    from kofu.center.signing import center_signer, published_folder
    from kofu.core.db import make_engine, migrate
    from kofu.core.errors import InvalidInput

    with guarded():
        conf = settings()
        urls = {}
        for item in cities:
            code, sep, url = item.partition("=")
            if not sep or not url.startswith("https://"):
                raise InvalidInput(f"--city takes CODE=https://..., not {item!r}", field="city")
            urls[code] = url
        issuer = x509.load_der_x509_certificate(
            httpx.get(f"{jpki.rstrip('/')}/ca/auth.der", timeout=10).content
        )
        db_url, schema = conf.database_for("center")
        engine = make_engine(db_url, schema)
        migrate(engine, "center")
        identity = network_identity(conf.home, "center")  # the kiosks' side
        lgwan = network_identity(conf.home, "center", "lgwan")  # the cities' side
        clock, signer = clock_from_env(running=True), center_signer(conf.home)

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            service = CenterService(
                engine,
                clock,
                signer,
                issuer,
                HttpDirectory(jpki, issuer, clock),
                HttpCities(urls, lgwan),
                timedelta(seconds=print_timeout),
            )
            return create_app(service, sweep_every=min(30.0, print_timeout / 5))

        port = port or free_port()
        base = f"https://127.0.0.1:{port}"
        ready: dict[str, object] = {
            "service": "center",
            "url": base,
            "status": f"{base}/status",
            "docs": f"{base}/docs",
            "cities": urls,
            "published_keys": str(published_folder(conf.home)),
            "tls": {"ca": str(identity.ca)},
        }
        serve_forever(build, port, ready, identity, workers)


@app.command("kiosk")
def kiosk(
    center: Annotated[str, typer.Option("--center", help="the issuance center's https URL")],
    port: Annotated[int, typer.Option(help="0 picks a free port")] = 0,
) -> None:
    """The kiosk page (the store's multi-copy machine) for a browser on this machine."""
    import httpx

    from kofu.cli.wiring import card_master_key
    from kofu.core.network import client_context
    from kofu.kiosk.web import create_kiosk_app

    with guarded():
        conf = settings()
        client = httpx.Client(
            verify=client_context(network_identity(conf.home, "kiosk-web")), timeout=60
        )
        app_ = create_kiosk_app(
            center_url=center.rstrip("/"),
            cards=conf.home / "cards",
            master_key=card_master_key(conf),
            client=client,
        )
        port = port or free_port()
        serve_forever(lambda: app_, port, {"service": "kiosk", "url": f"http://127.0.0.1:{port}/"})
