"""The ``kofu`` command line: one typer app, one module per group of commands."""

from __future__ import annotations

import typer

from kofu.cli import (
    bench,
    card,
    center,
    city,
    demo,
    domicile,
    juki_services,
    kiosk,
    network,
    office,
    serve,
    settle,
    up,
    verifier,
    verify,
)
from kofu.cli import evaluation as evaluation_cli
from kofu.cli import juki as juki_cli

app = typer.Typer(
    name="kofu",
    help="kofu — municipal certificate issuance: registers, cards, Juki-net, kiosks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def version() -> None:
    """Print kofu's version."""
    from importlib.metadata import version as _version

    typer.echo(_version("kofu"))


city.register(app)
office.register(app)
app.command()(demo.demo)
app.add_typer(bench.app, name="bench")
app.add_typer(serve.app, name="serve")
app.add_typer(card.app, name="card")
app.add_typer(domicile.app, name="domicile")
app.add_typer(network.app, name="network")
app.add_typer(center.app, name="center")
app.add_typer(juki_cli.app, name="juki")
app.add_typer(juki_cli.code_app, name="resident-code")
app.add_typer(verifier.app, name="verifier")
app.command()(verify.verify)
app.command()(kiosk.kiosk)
app.command()(settle.settle)
app.command()(up.up)
juki_services.register(app)  # wide-area, move-out, move-in, card continue
app.add_typer(evaluation_cli.activity, name="activity")
app.command()(evaluation_cli.indicators)
app.command()(evaluation_cli.evaluation)
