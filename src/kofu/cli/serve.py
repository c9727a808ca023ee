"""``kofu serve PARTY``: one service alone on 127.0.0.1; one JSON line of its URLs when ready."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from kofu.cli.common import guarded, settings
from kofu.core.clock import clock_from_env
from kofu.core.network import network_identity
from kofu.core.serve import free_port, serve_forever

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
    from kofu.jpki.bootstrap import jpki_ready, jpki_workers

    with guarded():
        port = port or free_port()
        private_port = private_port or free_port()
        base, private = f"http://127.0.0.1:{port}", f"https://127.0.0.1:{private_port}"
        identity, build = jpki_workers(settings(), base, clock_from_env(running=True))
        ready = jpki_ready(base, private, identity)
        serve_forever(build, port, ready, None, workers, also=(private_port, identity))


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
    from kofu.juki.bootstrap import prepare_juki

    with guarded():
        built = prepare_juki(
            settings(), prefecture=prefecture, national=national, upstream=upstream
        )
        port = port or free_port()
        serve_forever(built.app, port, built.ready(port), built.identity, workers)


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
    from kofu.city.bootstrap import prepare_city

    with guarded():
        built = prepare_city(settings(), city, mtls=mtls, juki=juki)
        port = port or free_port()
        serve_forever(built.app, port, built.ready(port), built.identity, workers)


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
    from kofu.center.bootstrap import city_urls, prepare_center

    with guarded():
        conf = settings()
        built = prepare_center(
            conf,
            jpki=jpki,
            cities=city_urls(cities),
            juki=juki,
            print_timeout=timedelta(seconds=print_timeout),
            request_lease=timedelta(seconds=request_lease),
        )
        port = port or free_port()
        serve_forever(built.app, port, built.ready(port), built.kiosks, workers)


@app.command("office")
def office(
    city: Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")],
    port: Port = 0,
    jpki: Annotated[
        str | None,
        typer.Option("--jpki", help="the authority's private https URL, for the card desk"),
    ] = None,
) -> None:
    """One city's office web app (窓口) on HTTPS; staff sign in with their password."""
    from kofu.cli.office import serve_office

    serve_office(city, port, jpki)


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


@app.command("verifier")
def verifier(
    port: Port = 0,
    keys: Annotated[
        Path | None, typer.Option(help="folder of the center's published certificates")
    ] = None,
) -> None:
    """The public verifier page (static: the browser checks codes itself, offline)."""
    from kofu.center.adapters.signing import published_certificates, published_folder
    from kofu.verifier.web import create_verifier_app

    with guarded():
        certificates = published_certificates(keys or published_folder(settings().home))
        port = port or free_port()
        ready = {
            "service": "verifier",
            "url": f"http://127.0.0.1:{port}/",
            "keys": sorted(kid.hex() for kid in certificates),
        }
        serve_forever(lambda: create_verifier_app(certificates), port, ready)
