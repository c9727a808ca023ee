"""``kofu settle --month YYYY-MM``: the center's monthly settlement per city and store chain."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from kofu.cli.common import emit, guarded, settings


def settle(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Printed (charged) issuances, copies and fees per city and store chain for a month."""
    from kofu.center.service import settlement
    from kofu.core.clock import JST
    from kofu.core.db import make_engine, migrate
    from kofu.core.errors import InvalidInput

    with guarded(as_json):
        try:
            start = datetime.strptime(month, "%Y-%m").replace(tzinfo=JST)
        except ValueError as exc:
            raise InvalidInput(f"--month is YYYY-MM, not {month!r}", field="month") from exc
        end = (start + timedelta(days=32)).replace(day=1)
        url, schema = settings().database_for("center")
        engine = make_engine(url, schema)
        migrate(engine, "center")
        rows = settlement(engine, start, end)
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
