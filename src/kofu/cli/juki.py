"""``kofu juki …`` (the city's CS as staff use it, j1090/j1100; provision and disclosure) and
``kofu resident-code change`` (住民票コード変更請求).

The commands read and write the city's store directly, as its staff's
terminal does; they reach the Juki-net servers over mutual TLS with the
city's own network certificate (an agency's, or the disclosure desk's, for
``lookup`` and ``disclose``).  A server's URL comes from ``--juki`` or from
the file the running server wrote under KOFU_HOME.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kofu.cli.common import clock, emit, guarded, settings

if TYPE_CHECKING:
    from kofu.core.jukilink import JukiLink

app = typer.Typer(
    help="Juki-net: the city's CS outbox, link, checks; provision.", no_args_is_help=True
)
code_app = typer.Typer(help="Resident codes (住民票コード).", no_args_is_help=True)

City = Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")]
Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]
Url = Annotated[
    str | None, typer.Option("--juki", help="the server's https URL (default: its file)")
]


def _engine(city: str) -> Any:
    from kofu.city.store import city_engine
    from kofu.core.identifiers import LocalGovernmentCode

    return city_engine(settings(), str(LocalGovernmentCode(city)))


def _units(city: str) -> Any:
    """The city's units of work, as its CS services take them."""
    from kofu.city.adapters.uow import city_units

    return city_units(_engine(city))


def _link(server: str, caller: str, url: str | None = None, sender: str = "") -> JukiLink:
    """A Juki-net server (``national``, ``pref-11``) reached as the network name ``caller``."""
    from kofu.cli.wiring import juki_url
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity

    conf = settings()
    identity = network_identity(conf.home, caller, "lgwan")
    return JukiLink(url or juki_url(conf, server), Link(client_context(identity), 30), sender)


def _pref_link(city: str, url: str | None = None) -> JukiLink:
    return _link(f"pref-{city[:2]}", f"city-{city}", url, f"city-{city}")


def _say(data: dict[str, Any], as_json: bool, words: str) -> None:
    if as_json:
        emit(data)
    else:
        typer.echo(words)


@app.command("outbox")
def outbox(
    city: City,
    state: Annotated[str | None, typer.Option(help="pending, sent or failed")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    after: Annotated[int, typer.Option(min=0, help="list from the seq after this")] = 0,
    as_json: Json = False,
) -> None:
    """The notices the CS sent and has yet to send, with their state and any error (j1090)."""
    from kofu.city.services.juki_cs import list_outbox

    with guarded(as_json):
        found = list_outbox(_units(city), state, limit, after)
        lines = [
            f"{m['seq']:>8}  {m['state']:<7} {m['reason']:<22} {m['resident_code']}"
            + (f"  error: {m['error']}" if m["error"] else "")
            for m in found["messages"]
        ]
        head = f"city {found['city']}: link {found['link']['mode']}, {found['counts']}"
        _say(found, as_json, "\n".join([head, *lines]))


@app.command("resend")
def resend(
    city: City,
    seq: Annotated[int, typer.Option(min=1, help="the notice's sequence number")],
    juki: Url = None,
    as_json: Json = False,
) -> None:
    """Send one notice again (再送); one past the receiver's next stays failed with the reason."""
    from kofu.city.services.juki_cs import resend as resend_one

    with guarded(as_json):
        result = resend_one(_units(city), _pref_link(city, juki), seq)
        words = f"seq {seq}: {result['state']}" + (
            f" ({result['error']})" if result.get("error") else ""
        )
        _say(result, as_json, words)
        if result["state"] == "failed":
            raise typer.Exit(1)


@app.command("add")
def add(
    city: City,
    resident: Annotated[str, typer.Option(help="the resident code")],
    as_json: Json = False,
) -> None:
    """Queue a notice of a record as it stands, by hand (手動追加); sent in order like any other."""
    from kofu.city.services.juki_cs import add_by_hand

    with guarded(as_json):
        result = add_by_hand(_units(city), resident, clock().today())
        _say(result, as_json, f"queued as seq {result['seq']}")


@app.command("link")
def link(
    city: City,
    manual: Annotated[bool, typer.Option("--manual", help="hold notices until resent")] = False,
    auto: Annotated[
        bool, typer.Option("--auto", help="send notices as they come (default)")
    ] = False,
    note: Annotated[str | None, typer.Option(help="why, for the other staff")] = None,
    as_json: Json = False,
) -> None:
    """Switch the CS link to manual for a while (一時的な手動連携), or back to automatic."""
    from kofu.city.services.juki_cs import link_state, set_link_mode
    from kofu.core.errors import InvalidInput

    with guarded(as_json):
        if manual and auto:
            raise InvalidInput("give --manual or --auto, not both", field="mode")
        units = _units(city)
        state = link_state(units) if not (manual or auto) else None
        if state is None:
            state = set_link_mode(units, "manual" if manual else "auto", note)
        _say(state, as_json, f"city {state['city']}: link {state['mode']}, {state['counts']}")


@app.command("check")
def check(
    city: City,
    repair: Annotated[bool, typer.Option(help="queue a fresh notice for each drift")] = False,
    pref_url: Annotated[str | None, typer.Option(help="the prefecture's server URL")] = None,
    national_url: Annotated[str | None, typer.Option(help="the national server URL")] = None,
    as_json: Json = False,
) -> None:
    """整合性確認 (j1100): the register against what the prefecture and national server hold."""
    from kofu.city.services.juki_cs import check_consistency, cs_turn

    with guarded(as_json):
        units, today = _units(city), clock().today()
        pref = _pref_link(city, pref_url)
        servers = {
            f"pref-{city[:2]}": pref,
            "national": _link("national", f"city-{city}", national_url),
        }
        result = check_consistency(units, servers, today, repair=repair)
        if repair and result["repaired"]:
            result["sent"] = cs_turn(units, pref, today).get("sent", 0)
        lines = [
            f"{d['server']:<9} {d['resident_code']} {d['kind']:<18} {d['cause']:<8} {d['detail']}"
            for d in result["differences"]
        ]
        head = (
            f"city {result['city']}: {result['records']} records, "
            f"{'consistent' if result['consistent'] else 'DIFFERENCES FOUND'}"
            + (f"; repaired by seq {result['repaired']}" if result["repaired"] else "")
        )
        _say(result, as_json, "\n".join([head, *lines]))
        if not result["consistent"] and not repair:
            raise typer.Exit(1)


@app.command("lookup")
def lookup(
    resident_code: Annotated[str, typer.Option("--resident-code", help="住民票コード")],
    agency: Annotated[str, typer.Option(help="the agency's name, e.g. japan-pension-service")],
    purpose: Annotated[str, typer.Option(help="the purpose code the law allows it")],
    juki: Url = None,
    as_json: Json = False,
) -> None:
    """本人確認情報 provided to an authorised agency by the national server (logged)."""
    with guarded(as_json):
        provided = _link("national", f"agency-{agency}", juki).provide(resident_code, purpose)
        data = provided.model_dump(mode="json", exclude={"v"})
        record = provided.record
        _say(
            data,
            as_json,
            f"{record.name} {record.birth_date} {record.sex} {record.address} "
            f"(city {record.city}, {record.state}); logged as {provided.provision_id}",
        )


@app.command("disclose")
def disclose(
    resident_code: Annotated[str, typer.Option("--resident-code", help="住民票コード")],
    juki: Url = None,
    as_json: Json = False,
) -> None:
    """本人確認情報の開示: what the national server holds of a person and whom it was given to."""
    from kofu.juki.domain.network import DISCLOSURE_DESK

    with guarded(as_json):
        found = _link("national", DISCLOSURE_DESK, juki).disclose(resident_code)
        data = found.model_dump(mode="json", exclude={"v"})
        lines = [f"{r.city} {r.state} {r.name} {r.address}" for r in found.records]
        lines += [
            f"provided to {p.agency} for {p.purpose} at {p.provided_at}" for p in found.provisions
        ]
        _say(data, as_json, "\n".join(lines or ["nothing held"]))


@code_app.command("change")
def change(
    city: City,
    resident: Annotated[str, typer.Option(help="the resident's current code")],
    out: Annotated[Path, typer.Option(help="where to write the notification slip (PDF)")],
    by: Annotated[str, typer.Option("--by", help="counter or post")] = "counter",
    juki: Url = None,
    as_json: Json = False,
) -> None:
    """住民票コード変更請求: a new code from the city's block; the old one retired everywhere."""
    from kofu.city.services.juki_cs import stock_codes
    from kofu.city.services.resident_code import change_resident_code, notification_slip
    from kofu.core.errors import Conflict

    with guarded(as_json):
        units, today = _units(city), clock().today()
        try:
            result = change_resident_code(units=units, resident=resident, channel=by, today=today)
        except Conflict as exc:
            if "unused resident codes" not in exc.message:
                raise
            stock_codes(units, _pref_link(city, juki), today, force=True)  # a block, then again
            result = change_resident_code(units=units, resident=resident, channel=by, today=today)
        out.write_bytes(notification_slip(result))
        result["slip"] = str(out)
        keep = ("city", "old_code", "new_code", "changed_on", "by", "seq", "slip")
        data = {k: result[k] for k in keep}
        _say(data, as_json, f"{result['old_code']} → {result['new_code']}; slip {out}")
