"""``kofu card``: the card desk — apply, slots, notices, schedule, issue, status, renew, lost —
and ``serve``, the card as a device of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kofu.cli.common import city_uow, clock, emit, guarded, settings
from kofu.core.clock import parse_instant
from kofu.core.errors import InvalidInput

if TYPE_CHECKING:
    from kofu.card.ledger import CardLedger

app = typer.Typer(help="The My Number card desk.", no_args_is_help=True)

City = Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")]
Json = Annotated[bool, typer.Option("--json", help="print JSON")]
Card = Annotated[Path, typer.Option("--card", help="the card file")]
Documents = Annotated[
    str,
    typer.Option(
        "--documents",
        help="identity documents shown, comma-separated: driving_licence, passport, "
        "residence_card (one is enough) or two of notification_card, health_insurance, "
        "pension_book, issuance_notice",
    ),
]


def _out(obj: Any, as_json: bool, line: str) -> None:
    if as_json:
        emit(obj)
    else:
        typer.echo(line)


def _ledger() -> CardLedger:
    """This installation's record of every card's newest state (under KOFU_HOME)."""
    from kofu.card.ledger import CardLedger

    return CardLedger.under(settings().home)


@contextlib.contextmanager
def _held(card: Path) -> Iterator[CardLedger]:
    """The card taken into the desk's reader: refused while a device or kiosk holds it."""
    from kofu.card.storage import card_id_of

    ledger = _ledger()
    with ledger.hold(card_id_of(card)):
        yield ledger


def _deliver(code: str) -> None:
    """Send queued revocations to the authority right away (they stay queued if it is down)."""
    from kofu.city.services.outbox import deliver_to_jpki
    from kofu.cli.wiring import authority

    deliver_to_jpki(uow=city_uow(code), authority=authority(settings(), code), clock=clock())


@app.command("apply")
def apply(
    city: City,
    resident: Annotated[
        str, typer.Option(help="住民票コード; several, comma-separated, for a group")
    ],
    channel: Annotated[
        str, typer.Option(help="mail, online, photo_booth, counter, outreach, group_outreach")
    ] = "counter",
    facility: Annotated[
        str | None, typer.Option(help="the care facility of a group application")
    ] = None,
    reason: Annotated[str, typer.Option(help="new or reissue")] = "new",
    as_json: Json = False,
) -> None:
    """交付申請: apply for a card (a group applies with --channel group_outreach --facility)."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        codes = [c for c in resident.split(",") if c]
        if channel == "group_outreach" or len(codes) > 1:
            made = desk.apply_group(
                uow=city_uow(city), resident_codes=codes, facility=facility or "", clock=clock()
            )
        else:
            made = [
                desk.apply_for_card(
                    uow=city_uow(city),
                    resident_code=codes[0],
                    channel=channel,
                    clock=clock(),
                    facility=facility,
                    reason=reason,
                )
            ]
        for a in made:
            _out(
                a.model_dump(mode="json"),
                as_json,
                f"{a.application_id}  {a.resident_code}  card expected {a.arrives_on}",
            )


slots_app = typer.Typer(help="交付枠: issuance slots and their capacity.", no_args_is_help=True)
app.add_typer(slots_app, name="slots")


@slots_app.command("add")
def slots_add(
    city: City,
    at: Annotated[str, typer.Option("--at", help="start, ISO-8601 (Japan time when no zone)")],
    minutes: Annotated[int, typer.Option(help="length")] = 30,
    capacity: Annotated[int, typer.Option(help="how many residents")] = 4,
    kind: Annotated[
        str, typer.Option(help="regular, extended_hours (weekday from 17:00) or weekend")
    ] = "regular",
    as_json: Json = False,
) -> None:
    """Open a slot."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        slot = desk.add_slot(
            uow=city_uow(city),
            starts_at=parse_instant(at),
            minutes=minutes,
            capacity=capacity,
            kind=kind,
            clock=clock(),
        )
        _out(
            slot.model_dump(mode="json"),
            as_json,
            f"{slot.slot_id}  {slot.starts_at}  capacity {slot.capacity}",
        )


@slots_app.command("capacity")
def slots_capacity(
    city: City,
    slot: Annotated[str, typer.Option(help="slot id")],
    capacity: Annotated[int, typer.Option(help="new capacity")],
    as_json: Json = False,
) -> None:
    """Change a slot's capacity (never below what is booked)."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        s = desk.set_capacity(uow=city_uow(city), slot_id=slot, capacity=capacity)
        _out(
            s.model_dump(mode="json"),
            as_json,
            f"{s.slot_id}  capacity {s.capacity}, booked {s.booked}",
        )


@app.command("notices")
def notices(city: City, as_json: Json = False) -> None:
    """交付通知書: notify everyone whose card has arrived."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        for a in desk.send_notices(uow=city_uow(city), clock=clock()):
            _out(
                a.model_dump(mode="json"),
                as_json,
                f"{a.application_id}  {a.resident_code}  notified",
            )


@app.command("schedule")
def schedule(
    city: City,
    application: Annotated[str, typer.Option(help="application id")],
    slot: Annotated[str, typer.Option(help="slot id")],
    as_json: Json = False,
) -> None:
    """交付予約: book a slot for a notified application."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        a = desk.book_slot(
            uow=city_uow(city), application_id=application, slot_id=slot, clock=clock()
        )
        _out(a.model_dump(mode="json"), as_json, f"{a.application_id}  booked {a.slot_id}")


@app.command("issue")
def issue(
    city: City,
    pin: Annotated[str, typer.Option(help="the 4-digit authentication PIN the resident sets")],
    out: Annotated[Path, typer.Option("--out", help="where to write the card file")],
    resident: Annotated[
        str | None, typer.Option(help="run the whole desk flow at once for this resident")
    ] = None,
    application: Annotated[str | None, typer.Option(help="hand over a booked application")] = None,
    password: Annotated[
        str | None, typer.Option(help="the 6-16 character signature password")
    ] = None,
    documents: Documents = "driving_licence",
    as_json: Json = False,
) -> None:
    """交付: hand over a card; with --resident, apply, notify, book and hand over at once (demo)."""
    from kofu.city.services import card_desk as desk
    from kofu.cli.wiring import authority, card_master_key

    with guarded(as_json):
        if (resident is None) == (application is None):
            raise InvalidInput(
                "give --resident (whole flow) or --application (booked)", field="resident"
            )
        desk.check_secrets(pin, password, documents.split(","))
        if application is None:
            assert resident is not None
            application = _whole_flow(city, resident)
        record = desk.hand_over(
            uow=city_uow(city),
            application_id=application,
            documents=documents.split(","),
            pin=pin,
            password=password,
            authority=authority(settings(), city),
            card_path=out,
            master_key=card_master_key(settings()),
            clock=clock(),
            ledger=_ledger(),
        )
        _out(
            {**record.model_dump(mode="json", exclude={"issuer_secret"}), "file": str(out)},
            as_json,
            f"card {record.card_id} for {record.resident_code} written to {out} "
            f"(valid to {record.expires_on})",
        )


def _whole_flow(city: str, resident: str) -> str:
    """Apply at the counter, let the card arrive, notify, open a slot and book it."""
    from kofu.city.domain.card_desk import LEAD_TIME
    from kofu.city.services import card_desk as desk

    now = clock().now()
    at_now = clock_at(now)
    app_ = desk.apply_for_card(
        uow=city_uow(city), resident_code=resident, channel="counter", clock=at_now
    )
    desk.send_notices(uow=city_uow(city), clock=clock_at(now + LEAD_TIME))
    slot = desk.add_slot(
        uow=city_uow(city),
        starts_at=now + timedelta(minutes=1),
        minutes=30,
        capacity=1,
        kind="regular",
        clock=at_now,
    )
    desk.book_slot(
        uow=city_uow(city), application_id=app_.application_id, slot_id=slot.slot_id, clock=at_now
    )
    return app_.application_id


def clock_at(instant: datetime) -> Any:
    from kofu.core.clock import FixedClock

    return FixedClock(instant)


@app.command("status")
def status(card: Card, as_json: Json = False) -> None:
    """The card's state, tries left, and both certificates in PEM."""
    from kofu.city.services import card_desk as desk
    from kofu.cli.wiring import card_master_key

    with guarded(as_json):
        info = desk.card_status(card, card_master_key(settings()), _ledger())
        _out(
            info,
            as_json,
            f"{info['card_id']}  {info['state']}  auth tries {info['auth_tries_left']}, "
            f"sign tries {info['sign_tries_left']}",
        )


@app.command("renew")
def renew(
    city: City,
    card: Card,
    pin: Annotated[str, typer.Option(help="the new 4-digit PIN")],
    password: Annotated[str | None, typer.Option(help="the new signature password")] = None,
    documents: Documents = "driving_licence",
    force: Annotated[
        bool, typer.Option(help="renew before the window (after a move or a found card)")
    ] = False,
    as_json: Json = False,
) -> None:
    """電子証明書の更新: from three months before the certificates expire."""
    from kofu.city.services import card_desk as desk
    from kofu.cli.wiring import authority, card_master_key

    with guarded(as_json), _held(card) as ledger:
        record = desk.renew_certificates(
            uow=city_uow(city),
            card_path=card,
            documents=documents.split(","),
            pin=pin,
            password=password,
            authority=authority(settings(), city),
            master_key=card_master_key(settings()),
            clock=clock(),
            force=force,
            ledger=ledger,
        )
        _deliver(city)
        _out(
            record.model_dump(mode="json", exclude={"issuer_secret"}),
            as_json,
            f"card {record.card_id}: certificates renewed to {record.certificates_expire_on}",
        )


@app.command("report-lost")
def report_lost(
    city: City, card_id: Annotated[str, typer.Option("--card-id")], as_json: Json = False
) -> None:
    """紛失届: suspend the card and revoke both certificates."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        record = desk.report_lost(uow=city_uow(city), card_id=card_id, clock=clock())
        _deliver(city)
        _out(
            record.model_dump(mode="json", exclude={"issuer_secret"}),
            as_json,
            f"card {record.card_id} suspended; its certificates are revoked",
        )


@app.command("found")
def found(
    city: City, card_id: Annotated[str, typer.Option("--card-id")], as_json: Json = False
) -> None:
    """発見届: lift the suspension (the certificates must be renewed)."""
    from kofu.city.services import card_desk as desk

    with guarded(as_json):
        record = desk.report_found(uow=city_uow(city), card_id=card_id, clock=clock())
        _out(
            record.model_dump(mode="json", exclude={"issuer_secret"}),
            as_json,
            f"card {record.card_id} active again; renew its certificates (kofu card renew --force)",
        )


@app.command("reset-pin")
def reset_pin(
    city: City,
    card: Card,
    new: Annotated[str, typer.Option("--new", help="the new PIN or password")],
    kind: Annotated[str, typer.Option(help="auth (4-digit PIN) or sign (password)")] = "auth",
    documents: Documents = "driving_licence",
    as_json: Json = False,
) -> None:
    """暗証番号の初期化: unlock a locked PIN with a new value, at the counter."""
    from kofu.city.services import card_desk as desk
    from kofu.cli.wiring import card_master_key

    with guarded(as_json), _held(card) as ledger:
        record = desk.reset_pin(
            uow=city_uow(city),
            card_path=card,
            documents=documents.split(","),
            kind=kind,
            new_value=new,
            master_key=card_master_key(settings()),
            ledger=ledger,
        )
        _out(
            {"card_id": record.card_id, "kind": kind, "reset": True},
            as_json,
            f"card {record.card_id}: {kind} PIN reset",
        )


@app.command("deliver")
def deliver(city: City, as_json: Json = False) -> None:
    """Send queued revocations (from register events and the desk) to the authority."""
    from kofu.city.services.outbox import deliver_to_jpki
    from kofu.cli.wiring import authority

    with guarded(as_json):
        result = deliver_to_jpki(
            uow=city_uow(city), authority=authority(settings(), city), clock=clock()
        )
        _out(
            result,
            as_json,
            f"sent {result['sent']}, failed {result['failed']}, waiting {result['waiting']}",
        )


@app.command("serve")
def serve(
    card: Card,
    socket_path: Annotated[
        Path | None,
        typer.Option(
            "--socket", help="the Unix socket to listen on (default KOFU_HOME/card/readers/ID.sock)"
        ),
    ] = None,
) -> None:
    """The card as a device of its own: APDUs in, responses out, on an owner-only Unix socket.

    It holds the card (no other reader may open it) and writes every change of
    its state before answering; prints one JSON line when ready; runs until
    stopped (Ctrl-C or SIGTERM).
    """
    import signal
    import sys

    from kofu.card.device import CardServer, device_socket, open_card
    from kofu.cli.wiring import card_master_key

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    with guarded():
        ledger = _ledger()
        with open_card(card, card_master_key(settings()), ledger) as element:
            path = socket_path or device_socket(ledger, element.card_id)
            server = CardServer(element, path)
            signal.signal(signal.SIGTERM, stop)
            try:
                emit({"service": "card", "card_id": element.card_id, "socket": str(path)})
                sys.stdout.flush()
                server.serve_forever()
            except KeyboardInterrupt:
                pass
            finally:
                server.server_close()
