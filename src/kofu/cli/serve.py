"""``kofu serve PARTY``: one service alone on 127.0.0.1; one JSON line of its URLs when ready."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from kofu.cli.common import guarded, settings
from kofu.core.clock import Clock, clock_from_env
from kofu.core.network import network_identity
from kofu.core.serve import free_port, serve_forever
from kofu.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(help="Run one service alone.", no_args_is_help=True)

# the options every service takes
Port = Annotated[int, typer.Option(help="0 picks a free port")]
Workers = Annotated[int, typer.Option(min=1, max=16, help="worker processes sharing the port")]


@app.command("jpki")
def jpki(
    port: Port = 0,
    workers: Workers = 1,
    private_port: Annotated[
        int, typer.Option(help="the mutual-TLS port for issuance, revocation, status; 0 picks")
    ] = 0,
) -> None:
    """The JPKI authority: CRLs, OCSP, CA certificates public; issuance on mutual TLS (LGWAN)."""
    from kofu.jpki.api.app import create_app
    from kofu.jpki.bootstrap import build_jpki

    with guarded():
        port = port or free_port()
        private_port = private_port or free_port()
        base, private = f"http://127.0.0.1:{port}", f"https://127.0.0.1:{private_port}"
        conf, clock = settings(), clock_from_env(running=True)
        build_jpki(conf, base, clock).engine.dispose()  # keys and store ready before any worker
        identity = network_identity(conf.home, "jpki", "lgwan")
        ready = {
            "service": "jpki",
            "url": base,
            "crl": {k: f"{base}/crl/{k}.crl" for k in ("sign", "auth")},
            "ocsp": {k: f"{base}/ocsp/{k}" for k in ("sign", "auth")},
            "ca": {k: f"{base}/ca/{k}.der" for k in ("root", "sign", "auth")},
            "docs": f"{base}/docs",
            "private": private,  # cities (issuance, revocation) and the center (status)
            "tls": {"ca": str(identity.ca)},
        }
        serve_forever(
            lambda: create_app(build_jpki(conf, base, clock)),
            port,
            ready,
            None,
            workers,
            also=(private_port, identity),
        )


@app.command("juki")
def juki(
    port: Port = 0,
    workers: Workers = 1,
) -> None:
    """The national directory (本人確認情報): cities report over mTLS, the center asks."""
    from kofu.core.db import make_engine, migrate
    from kofu.juki.api.app import create_app
    from kofu.juki.services.directory import JukiDirectory

    with guarded():
        conf = settings()
        db_url, schema = conf.database_for("juki")
        engine = make_engine(db_url, schema)
        migrate(engine, "juki")
        identity = network_identity(conf.home, "juki", "lgwan")
        clock = clock_from_env(running=True)

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            return create_app(JukiDirectory(engine, clock))

        port = port or free_port()
        base = f"https://127.0.0.1:{port}"
        ready: dict[str, object] = {
            "service": "juki",
            "url": base,
            "residents": f"{base}/residents/{{resident_code}}",
            "docs": f"{base}/docs",
            "tls": {"ca": str(identity.ca)},
        }
        serve_forever(build, port, ready, identity, workers)


@app.command("city")
def city(
    city: Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")],
    port: Port = 0,
    mtls: Annotated[
        bool, typer.Option(help="HTTPS, clients need a network-CA certificate")
    ] = False,
    workers: Workers = 1,
    juki: Annotated[
        str | None,
        typer.Option("--juki", help="juki's https URL: report changed records to it every 2 s"),
    ] = None,
) -> None:
    """One city: its register, counter, store certificate server and card desk (seed it first)."""
    from kofu.city.adapters.citylink import publish_address
    from kofu.city.adapters.config import load_store_rules
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.api.app import create_app
    from kofu.city.store import city_engine
    from kofu.documents.fonts import register_fonts

    with guarded():
        conf = settings()
        engine = city_engine(conf, city)
        with CityUnitOfWork(engine) as uow:
            profile = uow.city()  # refuses a city never seeded, with the command to run
        port = port or free_port()
        identity = network_identity(conf.home, f"city-{city}", "lgwan") if mtls else None
        base = f"{'https' if mtls else 'http'}://127.0.0.1:{port}"
        clock, rules = clock_from_env(running=True), load_store_rules(conf.home, city)

        report = _juki_report(conf, city, engine, juki, clock) if juki else None
        if identity is not None:  # other cities find it in the LGWAN address book
            report = _with_notices(conf, city, engine, juki, clock, report)
            publish_address(conf.home, city, base, juki)
        register_fonts()  # parsed once here, shared by the forked workers

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            return create_app(engine, city, clock, rules, (2.0, report) if report else None)

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


def _juki_report(
    conf: Settings, city: str, engine: Engine, juki: str, clock: Clock
) -> Callable[[], object]:
    """The report to juki, made by whichever worker holds the city's lock at the time."""
    import fcntl

    import httpx

    from kofu.city.adapters.juki_http import HttpJuki
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.services.juki_feed import report_to_juki
    from kofu.core.network import client_context

    lock_path = conf.home / f"city-{city}.juki.lock"
    links: list[HttpJuki] = []  # made in the worker, after the fork

    def report() -> object:
        if not links:
            lgwan = network_identity(conf.home, f"city-{city}", "lgwan")
            links.append(HttpJuki(juki, httpx.Client(verify=client_context(lgwan), timeout=30)))
        link = links[0]
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another worker is reporting
            uow = CityUnitOfWork(engine, today=clock.today())
            return report_to_juki(uow=uow, juki=link, clock=clock)

    return report


def _with_notices(
    conf: Settings,
    city: str,
    engine: Engine,
    juki: str | None,
    clock: Clock,
    report: Callable[[], object] | None,
) -> Callable[[], object]:
    """The background turn, plus the 転入通知 still owed to old cities (special move-ins)."""
    from kofu.city.adapters.citylink import CityLink
    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.services.special_move_in import deliver_notices

    links: list[CityLink] = []  # made in the worker, after the fork

    def turn() -> object:
        if not links:
            links.append(CityLink(conf, city, juki))
        uow = CityUnitOfWork(engine, today=clock.today())
        sent = deliver_notices(uow=uow, network=links[0], clock=clock)
        return (report() if report else None), sent

    return turn


@app.command("center")
def center(
    jpki: Annotated[
        str,
        typer.Option("--jpki", help="the authority's private https URL (its ready line's private)"),
    ],
    cities: Annotated[list[str], typer.Option("--city", help="CODE=URL of a city (repeat)")],
    port: Port = 0,
    workers: Workers = 1,
    print_timeout: Annotated[
        float, typer.Option(min=1, help="seconds a print may stay unconfirmed before it voids")
    ] = 300,
    juki: Annotated[
        str | None,
        typer.Option("--juki", help="juki's https URL: route to the city holding the record now"),
    ] = None,
    request_lease: Annotated[
        float,
        typer.Option(
            min=1, help="seconds an unanswered request stays its worker's before recovery asks"
        ),
    ] = 45,
) -> None:
    """The issuance center: kiosks in over mTLS, cities out over mTLS, the authority for status."""
    import httpx
    from cryptography import x509

    from kofu.center.api.app import create_app
    from kofu.center.auth import seconds_from_env
    from kofu.center.links import HttpCities, HttpDirectory, HttpJuki
    from kofu.center.service import CenterService
    from kofu.center.signing import center_signer, published_folder
    from kofu.core.db import make_engine, migrate
    from kofu.core.errors import InvalidInput
    from kofu.core.network import client_context
    from kofu.documents.stamp import prepare as prepare_stamp

    with guarded():
        conf = settings()
        urls = {}
        for item in cities:
            code, sep, url = item.partition("=")
            if not sep or not url.startswith("https://"):
                raise InvalidInput(f"--city takes CODE=https://..., not {item!r}", field="city")
            urls[code] = url
        if not jpki.startswith("https://"):
            raise InvalidInput(
                f"--jpki takes the authority's private https URL, not {jpki!r}", field="jpki"
            )
        identity = network_identity(conf.home, "center")  # the kiosks' side
        lgwan = network_identity(conf.home, "center", "lgwan")  # the cities' and jpki's side
        with httpx.Client(verify=client_context(lgwan), timeout=10) as link:  # the trust anchor
            issuer = x509.load_der_x509_certificate(
                link.get(f"{jpki.rstrip('/')}/ca/auth.der").raise_for_status().content
            )
        db_url, schema = conf.database_for("center")
        engine = make_engine(db_url, schema)
        migrate(engine, "center")
        clock, signer = clock_from_env(running=True), center_signer(conf.home)
        skew = seconds_from_env("KOFU_CLOCK_SKEW", 300)  # clocks of two services differ this much
        keep_good = seconds_from_env("KOFU_OCSP_CACHE", 5)  # a "good" OCSP answer reused this long
        prepare_stamp()  # fonts and the fixed layer once here, shared by the forked workers

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            service = CenterService(
                engine,
                clock,
                signer,
                issuer,
                HttpDirectory(jpki, issuer, clock, lgwan, keep_good, skew),
                HttpCities(urls, lgwan),
                timedelta(seconds=print_timeout),
                HttpJuki(juki, lgwan) if juki else None,
                clock_skew=skew,
                request_lease=timedelta(seconds=request_lease),
            )
            return create_app(service, sweep_every=min(30.0, print_timeout / 5, request_lease / 5))

        port = port or free_port()
        base = f"https://127.0.0.1:{port}"
        ready: dict[str, object] = {
            "service": "center",
            "url": base,
            "status": f"{base}/status",
            "docs": f"{base}/docs",
            "cities": urls,
            "juki": juki,
            "published_keys": str(published_folder(conf.home)),
            "tls": {"ca": str(identity.ca)},
        }
        serve_forever(build, port, ready, identity, workers)


@app.command("kiosk")
def kiosk(
    center: Annotated[str, typer.Option("--center", help="the issuance center's https URL")],
    port: Port = 0,
) -> None:
    """The kiosk page (the store's multi-copy machine) for a browser on this machine."""
    from kofu.cli.wiring import card_master_key
    from kofu.core.link import Link
    from kofu.core.network import client_context
    from kofu.kiosk.web import create_kiosk_app

    with guarded():
        conf = settings()
        client = Link(client_context(network_identity(conf.home, "kiosk-web")), timeout=60)
        app_ = create_kiosk_app(
            center_url=center.rstrip("/"),
            cards=conf.home / "cards",
            master_key=card_master_key(conf),
            client=client,
        )
        port = port or free_port()
        serve_forever(lambda: app_, port, {"service": "kiosk", "url": f"http://127.0.0.1:{port}/"})
