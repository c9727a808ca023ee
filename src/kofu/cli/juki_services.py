"""Juki-net services at a city's counter: wide-area certificates, special moves, 継続利用.

Each command is the city's own desk (it opens the city's store, as ``kofu
issue`` does) and speaks to other cities, juki and the authority over LGWAN
as ``city-CODE``; the other cities are found in the address book their
``kofu serve city --mtls`` (or ``kofu up``) wrote under KOFU_HOME.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kofu.cli.common import city_uow, clock, emit, guarded, parse_date, settings
from kofu.core.errors import InvalidInput

if TYPE_CHECKING:
    from kofu.city.adapters.citylink import CityLink

__all__ = ["register"]

wide_area_app = typer.Typer(help="Wide-area residence certificates (広域交付住民票).")

Json = Annotated[bool, typer.Option("--json", help="print one JSON object")]
CardFile = Annotated[Path, typer.Option("--card", help="the card file")]


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _network(code: str) -> CityLink:
    from kofu.city.adapters.citylink import CityLink

    return CityLink(settings(), code)


def _say(obj: dict[str, Any], as_json: bool, line: str) -> None:
    if as_json:
        emit(obj)
    else:
        typer.echo(line)


@wide_area_app.command("issue")
def wide_area_issue(
    at: Annotated[str, typer.Option("--at", help="the issuing city's code (this counter's)")],
    resident: Annotated[str, typer.Option(help="住民票コード of the person the certificate is of")],
    id_check: Annotated[
        str, typer.Option("--id-check", help="the photo ID shown: card or licence")
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the PDF")],
    household: Annotated[str | None, typer.Option(help="all or self")] = None,
    members: Annotated[
        str | None, typer.Option(help="resident codes of chosen household members, comma-separated")
    ] = None,
    with_items: Annotated[
        str | None,
        typer.Option("--with", help="head,individual_number,resident_code (never domicile)"),
    ] = None,
    request_id: Annotated[
        str | None, typer.Option(help="the request's id; the same id again reprints, never twice")
    ] = None,
    as_json: Json = False,
) -> None:
    """Issue a residence certificate of another city's resident, asked through Juki-net."""
    from kofu.city.adapters.config import load_store_rules
    from kofu.city.domain.certificates import CertificateType
    from kofu.city.services.wide_area import issue_wide_area

    with guarded(as_json):
        if id_check not in ("card", "licence"):
            raise InvalidInput(
                "--id-check is card (個人番号カード) or licence (運転免許証)", field="id_check"
            )
        rules = load_store_rules(settings().home, at)
        fee = rules.fees.get(CertificateType.JUMINHYO)
        done = issue_wide_area(
            uow=city_uow(at),
            code=at,
            clock=clock(),
            network=_network(at),
            request_id=request_id or f"wa-{uuid.uuid4().hex}",
            resident=resident,
            id_check=id_check,
            household=household,
            members=_list(members),
            items=_list(with_items),
            fee=fee,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(done.certificate.pdf)
        summary = {
            "file": str(out),
            "request_id": done.request_id,
            "issuing_city": done.issuing_city,
            "home_city": done.home_city,
            "certificate": "juminhyo",
            "issue_number": done.certificate.issue_number,
            "subjects": list(done.certificate.subjects),
            "content_digest": done.certificate.content_digest,
            "fee": done.fee,
            "reprint": done.reprint,
        }
        _say(
            summary,
            as_json,
            f"{out}: 広域交付住民票 No.{done.certificate.issue_number} "
            f"(home city {done.home_city}, fee {done.fee}円)",
        )


@wide_area_app.command("stats")
def wide_area_stats(
    city: Annotated[str, typer.Option("--city", help="local government code")],
    since: Annotated[str | None, typer.Option(help="first day, default 1 April of this FY")] = None,
    until: Annotated[str | None, typer.Option(help="last day, default today")] = None,
    as_json: Json = False,
) -> None:
    """Wide-area certificates issued here (issuing) and for this city's residents (home)."""
    from datetime import date

    from kofu.city.services.wide_area import wide_area_statistics

    with guarded(as_json):
        today = clock().today()
        fiscal = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
        first = parse_date(since, "since") or fiscal
        last = parse_date(until, "until") or today
        rows = wide_area_statistics(uow=city_uow(city), since=first, until=last)
        for row in rows:
            _say(
                row,
                as_json,
                f"{row['role']:<8} {row['issuing_city']} ← {row['home_city']}  {row['count']}",
            )


def move_out(
    city: Annotated[str, typer.Option("--city", help="the old city's code (this counter's)")],
    resident: Annotated[str, typer.Option(help="住民票コード of the person filing")],
    to: Annotated[str, typer.Option("--to", help="the new city's code")],
    planned: Annotated[str, typer.Option(help="転出予定日, YYYY-MM-DD")],
    household: Annotated[
        str | None, typer.Option(help="resident codes of the moving members, comma-separated")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="counter, post or online")] = "counter",
    card: Annotated[Path | None, typer.Option("--card", help="online: the card file")] = None,
    password: Annotated[
        str | None, typer.Option(help="online: the signature password (署名用パスワード)")
    ] = None,
    town: Annotated[str | None, typer.Option(help="the new address's town, if known")] = None,
    block: Annotated[str | None, typer.Option(help="the new address's 番地・号")] = None,
    as_json: Json = False,
) -> None:
    """転出届の特例: the move-out data goes to the new city through Juki-net, no paper."""
    from kofu.city.services.move_signature import SignedMoveOut, sign_move_out
    from kofu.city.services.special_move import special_move_out
    from kofu.cli.card import _deliver as deliver_revocations
    from kofu.cli.card import _held
    from kofu.cli.wiring import card_master_key

    with guarded(as_json):
        day = parse_date(planned, "planned")
        assert day is not None
        members = _list(household) or [resident]
        signed: SignedMoveOut | None = None
        if by == "online":
            if card is None or password is None:
                raise InvalidInput("--by online needs --card and --password", field="card")
            with _held(card) as ledger:
                signed = sign_move_out(
                    card_path=card,
                    password=password,
                    master_key=card_master_key(settings()),
                    ledger=ledger,
                    resident=resident,
                    to_city=to,
                    planned=day,
                    members=members,
                )
        data = special_move_out(
            uow=city_uow(city),
            code=city,
            clock=clock(),
            resident=resident,
            to_city=to,
            planned=day,
            household=members,
            channel=by,
            town=town,
            block=block,
            network=_network(city) if by == "online" else None,
            signed=signed,
        )
        deliver_revocations(city)  # the signature certificates' revocations, when due
        summary = data.model_dump(mode="json", exclude={"v"})
        for member in summary["members"]:
            if member.get("card"):
                member["card"] = {k: member["card"][k] for k in ("card_id", "state")}
        _say(
            summary,
            as_json,
            f"特例転出 {data.move_out_id}: {len(data.members)} person(s) to {data.to_city}, "
            f"planned {data.planned_on} (特例による転出処理済)",
        )


def move_in(
    city: Annotated[str, typer.Option("--city", help="the new city's code (this counter's)")],
    card: CardFile,
    pin: Annotated[str, typer.Option(help="the card's 4-digit PIN (checked by the card)")],
    moved: Annotated[str, typer.Option(help="the day of moving in, YYYY-MM-DD")],
    town: Annotated[str | None, typer.Option(help="correct the new address's town")] = None,
    block: Annotated[str | None, typer.Option(help="correct the new address's 番地・号")] = None,
    as_json: Json = False,
) -> None:
    """転入届の特例: the household registered from the move-out data received."""
    from kofu.city.services.special_move_in import special_move_in
    from kofu.cli.card import _held
    from kofu.cli.wiring import card_master_key

    with guarded(as_json), _held(card) as ledger:
        day = parse_date(moved, "moved")
        assert day is not None
        done = special_move_in(
            uow=city_uow(city),
            code=city,
            clock=clock(),
            network=_network(city),
            card_path=card,
            pin=pin,
            moved=day,
            master_key=card_master_key(settings()),
            ledger=ledger,
            town=town,
            block=block,
        )
        summary = {
            "move_out_id": done.move_out_id,
            "from_city": done.from_city,
            "city": city,
            "residents": list(done.residents),
            "household_id": done.household_id,
            "address": done.address,
            "notice": done.notice,
        }
        _say(
            summary,
            as_json,
            f"特例転入: {len(done.residents)} person(s) from {done.from_city} at {done.address}",
        )


def card_continue(
    city: Annotated[str, typer.Option("--city", help="the new city's code")],
    card: CardFile,
    pin: Annotated[str, typer.Option(help="the card's 4-digit PIN")],
    as_json: Json = False,
) -> None:
    """継続利用: the card carried over after a special move-in (within 90 days)."""
    from kofu.city.services.card_continuation import continue_card
    from kofu.cli.card import _held
    from kofu.cli.wiring import card_master_key

    with guarded(as_json), _held(card) as ledger:
        record = continue_card(
            uow=city_uow(city),
            clock=clock(),
            card_path=card,
            pin=pin,
            master_key=card_master_key(settings()),
            ledger=ledger,
        )
        summary = {
            "card_id": record.card_id,
            "city": city,
            "resident_code": record.resident_code,
            "state": record.state.value,
            "moved_in_on": record.moved_in_on,
            "continued_on": record.continued_on,
            "address": record.card_address,
            "signature_certificate": "revoked by the move; apply for a new one at the desk",
        }
        _say(summary, as_json, f"継続利用: card {record.card_id} at {record.card_address}")


def register(app: typer.Typer) -> None:
    """Add the commands: ``wide-area issue|stats``, ``move-out``, ``move-in``, ``card continue``."""
    from kofu.cli import card

    app.add_typer(wide_area_app, name="wide-area")
    app.command("move-out")(move_out)
    app.command("move-in")(move_in)
    card.app.command("continue")(card_continue)
