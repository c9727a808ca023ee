"""Evaluation commands: kofu activity import|record|reverse, kofu indicators, kofu evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kofu.cli.common import clock, emit, guarded, parse_date, settings
from kofu.core.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

__all__ = ["activity", "evaluation", "indicators"]

City = Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")]
Programme = Annotated[
    str, typer.Option("--programme", help="the city's programme code, e.g. 16231")
]
FiscalYear = Annotated[
    int, typer.Option("--fiscal-year", help="fiscal year (April–March), e.g. 2023")
]
Json = Annotated[bool, typer.Option("--json", help="print JSON")]

activity = typer.Typer(help="The activity log the evaluation sheets count.", no_args_is_help=True)


def _engine(city: str) -> Engine:
    from kofu.city.store import city_engine

    return city_engine(settings(), city)


@activity.command("import")
def import_(
    city: City,
    file: Annotated[Path, typer.Option("--file", help="CSV: occurred_at,kind,count,…")],
    as_json: Json = False,
) -> None:
    """Load past activity from a CSV (header row; all rows or none, the bad line named)."""
    from kofu.evaluation.services.activity import import_history

    with guarded(as_json):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {file}: {exc}", field="file") from exc
        report = import_history(_engine(city), text, clock())
        if as_json:
            emit(report)
        else:
            typer.echo(f"imported {report['rows']} rows ({report['from']} – {report['to']})")


@activity.command("record")
def record(
    city: City,
    kind: Annotated[str, typer.Option("--kind", help="complaint, staff-hours or finance")],
    on: Annotated[str | None, typer.Option(help="the day (default today)")] = None,
    count: Annotated[int, typer.Option(help="complaints: how many")] = 1,
    cause: Annotated[str, typer.Option(help="complaint: issuance_error, waiting, …")] = "",
    programme: Annotated[str, typer.Option(help="staff-hours, finance: programme code")] = "",
    hours: Annotated[str, typer.Option(help="staff-hours: hours worked")] = "",
    category: Annotated[str, typer.Option(help="staff-hours: staff category")] = "regular",
    fiscal_year: Annotated[
        int | None, typer.Option("--fiscal-year", help="finance: 会計年度")
    ] = None,
    stage: Annotated[str, typer.Option(help="finance: settled, budget or plan")] = "",
    amount_yen: Annotated[int | None, typer.Option("--amount-yen", help="finance: yen")] = None,
    funding: Annotated[str, typer.Option(help="finance: national, prefectural, bond, …")] = "",
    setsu: Annotated[str, typer.Option(help="finance: 節 number")] = "",
    setsu_name: Annotated[str, typer.Option("--setsu-name", help="finance: 節 name")] = "",
    item: Annotated[str, typer.Option(help="finance: item (e.g. 機器等保守料)")] = "",
    note: Annotated[str, typer.Option(help="a note kept with the record")] = "",
    as_json: Json = False,
) -> None:
    """Record what no machine sees: a complaint, staff hours, a budget or settled amount."""
    from kofu.evaluation.services.activity import record_fact

    with guarded(as_json):
        made = record_fact(
            _engine(city),
            kind,
            clock(),
            on=parse_date(on, "on"),
            count=count,
            cause=cause,
            programme=programme,
            hours=hours,
            category=category,
            fiscal_year=fiscal_year,
            stage=stage,
            amount_yen=amount_yen,
            funding=funding,
            setsu=setsu,
            setsu_name=setsu_name,
            item=item,
            note=note,
        )
        if as_json:
            emit(made)
        else:
            typer.echo(f"recorded {made['kind']} #{made['id']}")


@activity.command("reverse")
def reverse(
    city: City,
    id: Annotated[int, typer.Option("--id", help="the record to cancel")],
    reason: Annotated[str, typer.Option(help="why")],
    as_json: Json = False,
) -> None:
    """Correct the log: a reversal that refers to the original (which is never changed)."""
    from kofu.evaluation.services.activity import reverse_record

    with guarded(as_json):
        made = reverse_record(_engine(city), id, reason, clock())
        if as_json:
            emit(made)
        else:
            typer.echo(f"#{made['id']} reverses #{made['voids']}")


def indicators(
    city: City,
    programme: Programme,
    fiscal_year: FiscalYear,
    drill: Annotated[str | None, typer.Option(help="an indicator ID: list its records")] = None,
    limit: Annotated[int, typer.Option(help="drill-down: at most this many records")] = 100,
    as_json: Json = False,
) -> None:
    """Every indicator of a fiscal year with its value and the number of records it counts."""
    from kofu.evaluation.services.sheets import drill_down
    from kofu.evaluation.services.sheets import indicators as compute

    with guarded(as_json):
        home = settings().home
        if drill:
            out = drill_down(_engine(city), home, city, programme, fiscal_year, drill, limit)
            if as_json:
                emit(out)
            else:
                for r in out["records"]:
                    typer.echo(str(r))
            return
        out = compute(_engine(city), home, city, programme, fiscal_year)
        if as_json:
            emit(out)
            return
        for ind in out["indicators"]:
            why = f"  — not computed: {ind['not_computed']}" if ind["not_computed"] else ""
            typer.echo(
                f"{ind['id']:8} {ind['display']:>12} {ind['unit']:4} "
                f"({ind['records']} records)  {ind['label']}{why}"
            )


def evaluation(
    city: City,
    programme: Programme,
    fiscal_year: FiscalYear,
    out: Annotated[Path | None, typer.Option("--out", help="the sheet as PDF")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="the sheet as a web page")] = None,
    as_json: Json = False,
) -> None:
    """The evaluation sheet of a fiscal year (Fukaya 事務事業評価表 / Hanamaki 評価シート)."""
    from kofu.evaluation.adapters.graphs import sheet_graphs
    from kofu.evaluation.adapters.html import render_html
    from kofu.evaluation.adapters.pdf import render_pdf
    from kofu.evaluation.services.sheets import sheet

    with guarded(as_json):
        if out is None and html is None and not as_json:
            raise InvalidInput("say where the sheet goes: --out, --html or --json", field="out")
        data = sheet(_engine(city), settings().home, city, programme, fiscal_year, clock().today())
        if out is not None or html is not None:
            graphs = sheet_graphs(data)
            if out is not None:
                out.write_bytes(render_pdf(data, graphs))
            if html is not None:
                html.write_text(render_html(data, graphs), encoding="utf-8")
        if as_json:
            emit(data)
        else:
            typer.echo(f"wrote {out or html}")
