"""``kofu verify FILE``: is this a genuine kofu certificate?  Exit 0 only when it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kofu.cli.common import emit, settings


def verify(
    file: Annotated[Path, typer.Argument(help="a PDF, or a PNG/JPEG scan or photo of the page")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    keys: Annotated[
        Path | None, typer.Option(help="folder of the center's published certificates")
    ] = None,
) -> None:
    """Decode the QR code, check the signature (and all of a PDF), say what the page shows."""
    from kofu.center.adapters.signing import published_certificates, published_folder
    from kofu.documents.payload import InvalidPayload
    from kofu.documents.verify import verify_file

    folder = keys or published_folder(settings().home)
    try:
        if not file.exists():
            raise InvalidPayload("missing", f"no such file: {file}")
        result = verify_file(file, published_certificates(folder))
    except InvalidPayload as exc:
        if as_json:
            emit({"genuine": False, "reason": exc.reason, "message": exc.message})
        typer.echo(f"NOT GENUINE: {exc.message} ({exc.reason})", err=True)
        raise typer.Exit(1) from None
    from kofu.core.clock import JST

    c = result.claims
    issued = c.issued_at.astimezone(JST).isoformat()
    out = {
        "genuine": True,
        "type": c.type,
        "city": c.city,
        "holder_name": c.holder_name,
        "issued_at": issued,
        "issue_number": c.issue_number,
        "document_id": c.document_id,
        "content_checked": result.content_checked,
    }
    if as_json:
        emit(out)
    else:
        scope = (
            "signature and content"
            if result.content_checked
            else "signature (compare the page by eye)"
        )
        typer.echo(
            f"genuine ({scope}): {c.type} of {c.city} for {c.holder_name}, "
            f"issued {issued}, No.{c.issue_number}"
        )
