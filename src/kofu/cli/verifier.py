"""``kofu verifier build --out DIR``: the public verifier page as a folder to publish."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kofu.cli.common import emit, guarded, settings

app = typer.Typer(help="The public verifier page (static, offline).", no_args_is_help=True)


@app.command("build")
def build(
    out: Annotated[Path, typer.Option("--out", help="folder to write the page into")],
    keys: Annotated[
        Path | None, typer.Option(help="folder of the center's published certificates")
    ] = None,
) -> None:
    """Write the page, its script, the center's published keys and the QR decoder into DIR."""
    from kofu.center.adapters.signing import published_certificates, published_folder
    from kofu.verifier.site import build as build_site
    from kofu.verifier.site import decoder_path

    with guarded():
        folder = keys or published_folder(settings().home)
        certificates = published_certificates(folder)
        written = build_site(out, certificates)
        decoder = decoder_path()
        emit(
            {
                "out": str(out),
                "files": sorted(p.name for p in written),
                "keys": sorted(kid.hex() for kid in certificates),
                "qr_decoder": "jsQR" if decoder is not None else None,
            }
        )
