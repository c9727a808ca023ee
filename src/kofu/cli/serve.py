"""``kofu serve PARTY``: one service alone on 127.0.0.1; one JSON line of its URLs when ready."""

from __future__ import annotations

import os
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
    prefecture: Annotated[
        str | None,
        typer.Option(
            "--prefecture", help="run the server of this prefecture (two digits, e.g. 11)"
        ),
    ] = None,
    national: Annotated[
        bool, typer.Option("--national", help="the national server, fed by prefecture servers only")
    ] = False,
    upstream: Annotated[
        str | None,
        typer.Option(help="with --prefecture: the national server's https URL (default: its file)"),
    ] = None,
) -> None:
    """A Juki-net server (本人確認情報): a prefecture's, or the national one.

    Alone (no option) it is the national server that cities may also report
    to directly, as before prefecture servers existed.
    """
    from kofu.core.db import make_engine, migrate
    from kofu.core.errors import InvalidInput
    from kofu.juki.api.app import create_app
    from kofu.juki.domain.network import Role
    from kofu.juki.services.network import JukiNode

    with guarded():
        conf = settings()
        if prefecture is not None and (national or not _is_prefecture(prefecture)):
            raise InvalidInput(
                "--prefecture takes a prefecture's two digits (01 to 47), without --national",
                field="prefecture",
            )
        role = (
            Role("prefecture", prefecture) if prefecture else Role("national", direct=not national)
        )
        store = "juki" if role.kind == "national" else f"juki_pref_{prefecture}"
        db_url, schema = conf.database_for(store)
        engine = make_engine(db_url, schema)
        migrate(engine, "juki")
        name = role.network_name if national or prefecture else "juki"
        identity = network_identity(conf.home, name, "lgwan")
        clock = clock_from_env(running=True)
        JukiNode(engine, clock, role)  # refuses a store made for another role, before serving
        job = _juki_upstream(conf, role, upstream) if role.kind == "prefecture" else None

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            return create_app(JukiNode(engine, clock, role), (1.0, job) if job else None)

        port = port or free_port()
        base = f"https://127.0.0.1:{port}"
        ready: dict[str, object] = {
            "service": "juki",
            "role": role.name,
            "url": base,
            "residents": f"{base}/residents/{{resident_code}}",
            "docs": f"{base}/docs",
            "tls": {"ca": str(identity.ca)},
        }
        _publish_juki(conf, role.name, ready)
        serve_forever(build, port, ready, identity, workers)


def _is_prefecture(text: str) -> bool:
    return len(text) == 2 and text.isdigit() and 1 <= int(text) <= 47


def _publish_juki(conf: Settings, name: str, ready: dict[str, object]) -> None:
    """Write the server's ready line where the CLI finds it (KOFU_HOME/juki-net/NAME.json)."""
    import json

    folder = conf.home / "juki-net"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(ready, ensure_ascii=False) + "\n")


def _juki_upstream(conf: Settings, role: object, upstream: str | None) -> Callable[[], object]:
    """A prefecture's server's turn: stock codes and forward notices to the national server."""
    from kofu.cli.wiring import juki_url
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link
    from kofu.core.network import client_context
    from kofu.juki.domain.network import Role
    from kofu.juki.services.network import JukiNode, upstream_turn

    assert isinstance(role, Role)
    url = upstream or juki_url(conf, "national")
    links: list[JukiLink] = []  # made in the worker, after the fork
    nodes: list[JukiNode] = []

    def turn() -> object:
        if not links:
            lgwan = network_identity(conf.home, role.network_name, "lgwan")
            links.append(JukiLink(url, Link(client_context(lgwan), timeout=30), role.name))
            db_url, schema = conf.database_for(f"juki_pref_{role.prefecture}")
            from kofu.core.db import make_engine

            nodes.append(JukiNode(make_engine(db_url, schema), clock_from_env(running=True), role))
        return upstream_turn(nodes[0], links[0])

    return turn


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
        typer.Option(
            "--juki", help="its prefecture's Juki-net server (https URL): the CS sends to it"
        ),
    ] = None,
) -> None:
    """One city: its register, counter, store certificate server and card desk (seed it first)."""
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
        register_fonts()  # parsed once here, shared by the forked workers

        def build() -> object:
            engine.dispose(close=False)  # a worker opens its own connections, never the parent's
            return create_app(engine, city, clock, rules, (1.0, report) if report else None)

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
    """The city's CS turn (notices, codes), made by whichever worker holds the city's lock.

    Every ``KOFU_JUKI_CHECK_SECONDS`` (6 hours; the first a minute after the
    start) the turn also checks the register against the prefecture's server.
    """
    import fcntl
    import time

    from kofu.city.services.juki_cs import cs_turn
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link
    from kofu.core.network import client_context

    lock_path = conf.home / f"city-{city}.juki.lock"
    links: list[JukiLink] = []  # made in the worker, after the fork

    def report() -> object:
        if not links:
            lgwan = network_identity(conf.home, f"city-{city}", "lgwan")
            links.append(JukiLink(juki, Link(client_context(lgwan), timeout=30), f"city-{city}"))
        with lock_path.open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # another worker is reporting
            done = cs_turn(engine, links[0], clock.today())
            if time.monotonic() >= next_check[0]:  # 整合性確認 with the CS's counterpart, j1100
                next_check[0] = time.monotonic() + check_every
                _periodic_check(conf, city, engine, links[0], clock)
            return done

    check_every = float(os.environ.get("KOFU_JUKI_CHECK_SECONDS", 6 * 3600))
    next_check = [time.monotonic() + min(check_every, 60.0)]
    return report


def _periodic_check(conf: Settings, city: str, engine: Engine, pref: object, clock: Clock) -> None:
    """The periodic consistency check with the prefecture's server; its result in a file.

    ``KOFU_HOME/juki-net/check-CODE.json`` keeps the last result, and a
    drift is logged, so staff see it before anyone asks; ``kofu juki check``
    compares with the national server too, and repairs.
    """
    import json
    import logging

    from kofu.city.services.juki_cs import check_consistency
    from kofu.core.errors import KofuError
    from kofu.core.jukilink import JukiLink

    assert isinstance(pref, JukiLink)
    try:
        result = check_consistency(engine, {f"pref-{city[:2]}": pref}, clock.today())
    except KofuError as exc:
        result = {"city": city, "consistent": None, "error": exc.message}
    result["checked_at"] = clock.now().isoformat()
    folder = conf.home / "juki-net"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"check-{city}.json").write_text(json.dumps(result, ensure_ascii=False, default=str))
    if result.get("consistent") is False:
        drifts = [d for d in result["differences"] if d["cause"] != "pending"]
        logging.getLogger("kofu.city").warning(
            "Juki-net consistency check of city %s: %d differences", city, len(drifts)
        )


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
