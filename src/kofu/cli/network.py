"""``kofu network``: certificates from the private network CA for people and machines outside kofu.

Every party gets its certificate when it first starts; an operator's browser
(the center's status page) or an auditor's script needs one made on purpose,
and a browser imports it as PKCS#12.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kofu.cli.common import emit, guarded, settings

app = typer.Typer(help="The private network CA: certificates for operators.", no_args_is_help=True)


@app.command("cert")
def cert(
    name: Annotated[str, typer.Option(help="lower-case letters, digits and '-', e.g. operator")],
    network: Annotated[
        str, typer.Option(help="store (kiosks, operators) or lgwan (the cities' side)")
    ] = "store",
    p12: Annotated[
        Path | None, typer.Option(help="also write a PKCS#12 file a browser can import")
    ] = None,
    password: Annotated[
        str | None, typer.Option(help="the PKCS#12 file's password (with --p12)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """A client certificate from the network CA (made once, then reused)."""
    from kofu.core.errors import InvalidInput
    from kofu.core.keys import write_new
    from kofu.core.network import as_pkcs12, network_identity

    with guarded(as_json):
        if p12 is not None and (password is None or len(password) < 8):
            raise InvalidInput("--p12 needs --password of at least 8 characters", field="password")
        identity = network_identity(settings().home, name, network)
        out = {
            "name": name,
            "cert": str(identity.cert),
            "key": str(identity.key),
            "ca": str(identity.ca),
        }
        if p12 is not None and password is not None:
            p12.unlink(missing_ok=True)  # a new bundle, owner-only from its first instant
            write_new(p12, as_pkcs12(identity, password))
            out["p12"] = str(p12)
        if as_json:
            emit(out)
        else:
            typer.echo(f"{name}: {out['cert']} (key {out['key']}, CA {out['ca']})")
