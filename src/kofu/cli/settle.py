"""``kofu settle --month YYYY-MM``: the center's monthly settlement per city and store chain.

It reads the center's store on this machine, or with ``--center URL`` asks
the running center over mutual TLS on the ``operator`` certificate of
KOFU_HOME's stores' network (made on first use): the center shows its books
to operators only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from kofu.cli.common import emit, guarded, settings


def settle(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    center: Annotated[
        str | None,
        typer.Option(help="the running center's https URL (asked as operator), not the store"),
    ] = None,
) -> None:
    """Printed (charged) issuances, copies and fees per city and store chain for a month."""
    from kofu.core.clock import JST
    from kofu.core.errors import InvalidInput

    with guarded(as_json):
        try:
            start = datetime.strptime(month, "%Y-%m").replace(tzinfo=JST)
        except ValueError as exc:
            raise InvalidInput(f"--month is YYYY-MM, not {month!r}", field="month") from exc
        end = (start + timedelta(days=32)).replace(day=1)
        rows = _asked(center, month) if center else _read(start, end)
        total = {
            "issuances": sum(r["issuances"] for r in rows),
            "fees": sum(r["fees"] for r in rows),
        }
        if as_json:
            emit({"month": month, "rows": rows, "total": total})
            return
        for r in rows:
            typer.echo(
                f"{r['city']}  {r['chain']:<12} {r['issuances']:>6} issuances "
                f"{r['copies']:>6} copies {r['fees']:>9,} yen"
            )
        typer.echo(f"total {total['issuances']} issuances, {total['fees']:,} yen")


def _read(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The settlement from the center's own store (on this machine)."""
    from kofu.center.bootstrap import center_units
    from kofu.center.services.operator import settlement

    return settlement(center_units(settings()), start, end)


def _asked(center: str, month: str) -> list[dict[str, Any]]:
    """The settlement from the running center, asked on the operator's network certificate."""
    from kofu.contracts.operator import Settlement
    from kofu.core.errors import Refused
    from kofu.core.http import ask
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity

    unavailable = Refused("center_unavailable", f"the center at {center} could not answer")
    operator = network_identity(settings().home, "operator")
    with Link(client_context(operator), timeout=60) as link:
        answer = ask(link, "GET", f"{center.rstrip('/')}/settlement?month={month}", unavailable)
    month_read = Settlement.read(answer, unavailable)
    return [row.model_dump(mode="json", exclude={"v"}) for row in month_read.rows]
