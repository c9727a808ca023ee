"""``kofu kiosk``: the store's multi-copy machine from the command line.

Card in (a card file, or a card device served by ``kofu card serve`` with
``--reader``), PIN checked on the card, the challenge signed, the certificate
chosen, fee shown, printed (the PDF written), then confirmed; a failure
while printing voids the issuance and nothing is charged.
"""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from kofu.cli.common import emit, guarded, settings


def kiosk(
    pin: Annotated[str, typer.Option("--pin", help="the 4-digit authentication PIN")],
    card: Annotated[Path | None, typer.Option("--card", help="the card file")] = None,
    reader: Annotated[
        Path | None,
        typer.Option("--reader", help="the Unix socket of a card device (kofu card serve)"),
    ] = None,
    type: Annotated[
        str | None,
        typer.Option("--type", help="juminhyo, inkan, kazei, shotoku, koseki-zenbu, ..."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="where the printed PDF goes")] = None,
    city: Annotated[str, typer.Option("--city", help="residence or domicile")] = "residence",
    domicile_city: Annotated[
        str | None, typer.Option(help="the domicile city's code (with --city domicile)")
    ] = None,
    register: Annotated[
        str | None,
        typer.Option(help="本籍 to register for the domicile city's documents (本籍地利用登録)"),
    ] = None,
    head: Annotated[
        str | None, typer.Option(help="筆頭者 of that register (with --register)")
    ] = None,
    with_items: Annotated[
        str | None, typer.Option("--with", help="head,domicile,individual_number")
    ] = None,
    household: Annotated[
        str | None, typer.Option(help="all or self (residence certificate)")
    ] = None,
    copies: Annotated[int, typer.Option(help="1 to 10")] = 1,
    center: Annotated[
        str | None, typer.Option(help="the center's URL (default KOFU_CENTER_URL)")
    ] = None,
    store: Annotated[str, typer.Option(help="store id")] = "cli-0001",
    chain: Annotated[str, typer.Option(help="store chain")] = "kofu-cli",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Get a certificate as at a store: PIN on the card, challenge signed, print, confirm."""
    from kofu.card.device import SocketReader
    from kofu.card.ledger import CardLedger
    from kofu.cli.wiring import card_master_key
    from kofu.core.errors import InvalidInput
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity
    from kofu.kiosk.client import KioskClient

    with guarded(as_json):
        url = (center or os.environ.get("KOFU_CENTER_URL") or "").rstrip("/")
        if not url:
            raise InvalidInput("give --center or set KOFU_CENTER_URL", field="center")
        if (card is None) == (reader is None):
            raise InvalidInput("give --card FILE or --reader SOCKET (one of them)", field="card")
        if city not in ("residence", "domicile"):
            raise InvalidInput("--city is residence or domicile", field="city")
        if city == "domicile" and not domicile_city:
            raise InvalidInput("--city domicile needs --domicile-city CODE", field="domicile_city")
        if register is None and (type is None or out is None):
            raise InvalidInput("give --type and --out (or --register to register)", field="type")
        if register is not None and not (domicile_city and head):
            raise InvalidInput("--register needs --domicile-city and --head", field="register")
        http = Link(client_context(network_identity(settings().home, "kiosk")), timeout=60)
        center_client = KioskClient(url, http, CardLedger.under(settings().home))
        if card is not None:
            session = center_client.sign_in(card, card_master_key(settings()), pin)
        else:
            assert reader is not None
            with SocketReader(reader) as device:
                session = center_client.sign_in_with(device, pin)
        if register is not None:
            assert domicile_city is not None and head is not None
            made = center_client.register_domicile(session, domicile_city, register, head)
            if as_json:
                emit(made.model_dump(mode="json"))
            else:
                typer.echo(
                    f"domicile registration {made.registration_id} with {domicile_city}: "
                    f"{made.state} (the city reviews it)"
                )
            return
        assert type is not None and out is not None
        target = domicile_city if city == "domicile" else None
        options: dict[str, Any] = {"items": [i for i in (with_items or "").split(",") if i]}
        if household:
            options["household"] = household
        request_id = f"{store}-{uuid.uuid4().hex[:16]}"
        job = center_client.request(
            session, request_id, type, options, copies, store, chain, domicile_city=target
        )
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(base64.b64decode(job.pdf_base64))
        except OSError as exc:
            center_client.voided(request_id, f"print failure: {exc.strerror}")
            raise InvalidInput(
                f"printing failed ({exc.strerror}); nothing was charged", field="out"
            ) from exc
        center_client.printed(request_id)
        summary = {
            "request_id": request_id,
            "certificate": type,
            "city": job.city,
            "copies": copies,
            "fee": job.fee,
            "file": str(out),
        }
        if as_json:
            emit(summary)
        else:
            typer.echo(
                f"{type} x{copies} printed to {out}; fee {job.fee} yen (request {request_id})"
            )
