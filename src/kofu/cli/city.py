"""City commands: seed, residents, show, event."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kofu.cli.common import city_uow, clock, emit, guarded, parse_date, settings
from kofu.core.errors import InvalidInput

if TYPE_CHECKING:
    from kofu.city.domain.provisional import ProvisionalEntry

__all__ = ["register"]

City = Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")]
Json = Annotated[bool, typer.Option("--json", help="print JSON lines")]


def seed(
    city: City,
    residents: Annotated[int, typer.Option(help="how many residents")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same city")] = 1,
    as_json: Json = False,
) -> None:
    """Build a synthetic city from Japan Post's address data (replaces its registers)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from kofu.city.services.seeding import seed_city
    from kofu.city.store import city_engine

    with guarded(as_json):
        engine = city_engine(settings(), city)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=as_json,
            disable=not sys.stderr.isatty() and as_json,
        ) as bar:
            task = bar.add_task(f"seeding {city}", total=residents)
            report = seed_city(
                engine=engine,
                code=city,
                residents=residents,
                seed=seed,
                today=clock().today(),
                progress=lambda n: bar.update(task, completed=n),
            )
        if as_json:
            emit(report)
        else:
            info = report["city"]
            typer.echo(
                f"{info['prefecture']}{info['name']} ({city}): {report['residents']} residents in "
                f"{report['households']} households, {report.get('family_registers', 0)} family "
                f"registers, {report.get('seals', 0)} seals"
            )


def residents(
    city: City,
    limit: Annotated[int | None, typer.Option(help="at most this many")] = None,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
    as_json: Json = False,
) -> None:
    """List residents, one JSON object a line (resident_code, individual_number, name, …)."""
    from kofu.city.services.queries import list_residents

    with guarded(as_json):
        for row in list_residents(uow=city_uow(city), limit=limit, offset=offset):
            if as_json:
                emit(row)
            else:
                typer.echo(
                    f"{row['resident_code']}  {row['name']}  {row['birth_date']}  {row['address']}"
                )


def show(
    city: City,
    resident: Annotated[str, typer.Option(help="住民票コード")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the record as it stood on this date")
    ] = None,
    as_json: Json = False,
) -> None:
    """One person's record with its history."""
    from kofu.city.services.queries import show_resident

    with guarded(as_json):
        out = show_resident(
            uow=city_uow(city), resident_code=resident, as_of=parse_date(as_of, "as_of")
        )
        if as_json:
            emit(out)
        else:
            rec = out["record"]
            typer.echo(f"{rec['name']} ({rec['kana']})  {rec['birth_date']}  {rec['status']}")
            for h in out["history"]:
                typer.echo(f"  {h['effective']}  {h['kind']:<22} {h['address']}")


def _read_events(path: str) -> list[Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from exc
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {number} is not JSON: {exc.msg}", field="file") from exc
    if not events:
        raise InvalidInput("no events in the input", field="file")
    return events


event_app = typer.Typer(
    help="Apply register events (JSON lines), all or none; `kofu event kinds` lists them.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@event_app.callback()
def event(
    ctx: typer.Context,
    city: Annotated[str | None, typer.Option("--city", help="local government code")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="JSON lines file, or - for stdin")
    ] = None,
) -> None:
    """Apply register events, one JSON object a line; prints what each changed."""
    from kofu.city.services.events import apply_events

    if ctx.invoked_subcommand is not None:
        return
    with guarded(True):
        if city is None or file is None:
            raise InvalidInput(
                "kofu event needs --city and --file", field="city" if city is None else "file"
            )
        for change in apply_events(uow=city_uow(city), events=_read_events(file), clock=clock()):
            answer = change.model_dump(mode="json")
            if answer["alert"] is None:  # the four keys of the contract, alert only when raised
                del answer["alert"]
            emit(answer)


@event_app.command("kinds")
def kinds(as_json: Json = False) -> None:
    """Every event kind with its fields."""
    from kofu.city.domain.events import event_kinds

    for kind in event_kinds():
        if as_json:
            emit(kind)
        else:
            required = [f for f, v in kind["fields"].items() if v["required"]]
            typer.echo(f"{kind['kind']:<34} {', '.join(required)}")


Staff = Annotated[str | None, typer.Option("--staff", help="the clerk's user id")]


def _entry_out(entry: ProvisionalEntry) -> dict[str, Any]:
    """One provisional entry as ``kofu event enter / pending / withdraw`` print it."""
    return entry.model_dump(mode="json")


@event_app.command("enter")
def enter(
    city: City,
    file: Annotated[str, typer.Option("--file", help="JSON lines file, or - for stdin")],
    staff: Staff = None,
) -> None:
    """仮登録: check each event against the register and keep it, applying none."""
    from kofu.city.services.provisional import enter_provisionally

    with guarded(True):
        events = _read_events(file)
        for entry in enter_provisionally(
            uow=city_uow(city), events=events, clock=clock(), staff=staff
        ):
            emit(_entry_out(entry))


@event_app.command("pending")
def pending(
    city: City,
    resident: Annotated[str | None, typer.Option(help="only this person's entries")] = None,
    state: Annotated[str, typer.Option(help="pending, registered, withdrawn or all")] = "pending",
) -> None:
    """仮登録一覧: the entries waiting for approval (or of another state), oldest first."""
    from kofu.city.services.provisional import list_entries

    with guarded(True):
        for entry in list_entries(
            uow=city_uow(city),
            state=None if state == "all" else state,
            resident_code=resident,
        ):
            emit(_entry_out(entry))


@event_app.command("register")
def register_entries_command(
    city: City,
    entry: Annotated[str, typer.Option("--entry", help="entry ids, comma-separated, in order")],
    staff: Staff = None,
) -> None:
    """本登録: apply the pending entries, all or none; prints what each changed."""
    from kofu.city.services.provisional import register_entries

    with guarded(True):
        ids = [e for e in entry.split(",") if e]
        for change in register_entries(
            uow=city_uow(city), entry_ids=ids, clock=clock(), staff=staff
        ):
            answer = change.model_dump(mode="json")
            if answer["alert"] is None:
                del answer["alert"]
            emit(answer)


@event_app.command("withdraw")
def withdraw(
    city: City,
    entry: Annotated[str, typer.Option("--entry", help="the entry id")],
    staff: Staff = None,
) -> None:
    """取消 of a pending entry: kept, marked withdrawn, never applied."""
    from kofu.city.services.provisional import withdraw_entry

    with guarded(True):
        emit(
            _entry_out(
                withdraw_entry(uow=city_uow(city), entry_id=entry, clock=clock(), staff=staff)
            )
        )


def issue(
    city: City,
    resident: Annotated[str, typer.Option(help="住民票コード of the person asking")],
    type: Annotated[
        str,
        typer.Option(
            "--type",
            help="juminhyo, johyo, kisai, johyo-kisai, inkan, kazei, shotoku, koseki-zenbu, "
            "koseki-kojin, fuhyo, tenshutsu",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the PDF")],
    household: Annotated[
        str | None, typer.Option(help="all or self (residence certificates)")
    ] = None,
    members: Annotated[
        str | None, typer.Option(help="resident codes of chosen household members, comma-separated")
    ] = None,
    with_items: Annotated[
        str | None,
        typer.Option("--with", help="head,domicile,individual_number,resident_code,foreign"),
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="print the 統合記載欄: every 異動 with its dates")
    ] = False,
    form: Annotated[
        str | None, typer.Option(help="household (世帯連記式) or person (個人票)")
    ] = None,
    without: Annotated[
        str | None, typer.Option("--without", help="items the city prints by default, left out")
    ] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="fiscal year of a tax or income certificate")
    ] = None,
    copies: Annotated[
        int, typer.Option(help="copies, each with its own 発行番号 (FILE, FILE-2.pdf, …)")
    ] = 1,
    place: Annotated[str, typer.Option(help="交付場所, e.g. 本庁, 花園支所")] = "本庁",
    terminal: Annotated[str, typer.Option(help="発行端末名 printed in the 発行番号")] = "本庁1",
    printer: Annotated[
        str, typer.Option(help="発行プリンタ printed in the 発行番号")
    ] = "プリンタ001",
    staff: Annotated[str, typer.Option(help="the clerk's user id, kept in the 交付履歴")] = "",
    official: Annotated[
        bool, typer.Option("--official", help="print 公用 (asked by a public office)")
    ] = False,
    preview: Annotated[
        bool, typer.Option("--preview", help="a 見本 PDF: no number, nothing logged")
    ] = False,
    special: Annotated[
        bool,
        typer.Option(
            "--special", help="with --history: the special history (特別養子縁組, 性別の変更)"
        ),
    ] = False,
    in_lieu: Annotated[
        bool,
        typer.Option(
            "--in-lieu",
            help="tenshutsu: the 転出証明書に準ずる証明書 for a move-out notified too late",
        ),
    ] = False,
    as_json: Json = False,
) -> None:
    """Issue a certificate at the counter as an A4 PDF."""
    from kofu.city.bootstrap import certificate_defaults, city_deputy
    from kofu.city.domain.certificates import IssueRequest, Station
    from kofu.city.services.issuance import issue_certificates, preview_certificate

    with guarded(as_json):
        request = IssueRequest.parse(
            form=form,
            without=[i for i in (without or "").split(",") if i],
            defaults=certificate_defaults(settings().home, city),
            official=official,
            in_lieu=in_lieu,
            special=special,
            type=type,
            resident_code=resident,
            household=household,
            members=[m for m in (members or "").split(",") if m],
            items=[i for i in (with_items or "").split(",") if i],
            history=history,
            fiscal_year=year,
        )
        station = Station(place=place, terminal=terminal, printer=printer, staff_id=staff)
        if preview:
            every = [preview_certificate(uow=city_uow(city), request=request, clock=clock())]
            copies = 1
        else:
            every = issue_certificates(
                uow=city_uow(city),
                request=request,
                clock=clock(),
                station=station,
                copies=copies,
                deputy=city_deputy(settings().home, city),
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        files = [out] + [out.with_name(f"{out.stem}-{n}{out.suffix}") for n in range(2, copies + 1)]
        for path, one in zip(files, every, strict=True):
            path.write_bytes(one.pdf)
        issued = every[0]
        summary = {
            "file": str(out),
            "certificate": issued.certificate,
            "issue_number": issued.issue_number,
            "resident_code": issued.resident_code,
            "subjects": list(issued.subjects),
            "content_digest": issued.content_digest,
            "bytes": len(issued.pdf),
            "issue_label": issued.issue_label,
            "warnings": list(issued.warnings),
            "preview": preview,
            "copies": [
                {"file": str(path), "issue_number": one.issue_number, "pages": one.pages}
                for path, one in zip(files, every, strict=True)
            ],
        }
        if as_json:
            emit(summary)
        else:
            typer.echo(
                f"{out}: {issued.certificate} No.{issued.issue_number} ({len(issued.pdf):,} bytes)"
            )


def register(app: typer.Typer) -> None:
    app.command()(issue)
    app.command()(seed)
    app.command()(residents)
    app.command()(show)
    app.add_typer(event_app, name="event")
