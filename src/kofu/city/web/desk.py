"""The My Number card desk (カード交付窓口): applications, slots, bookings, handover and after.

Every action is the city's card-desk service (``services/card_desk.py``),
called as ``kofu card …`` calls it; the page only collects the form.  The
card "on the reader" is a card file in the office's card folder: a handover
writes the new card there, a renewal or a PIN reset reads the one chosen.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from kofu.city.domain.card_desk import ApplicationChannel, IdentityDocument, SlotKind
from kofu.city.services import card_desk as desk
from kofu.city.web.app import Office, current, office_of, page, posted
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput, Refused

__all__ = ["routes"]

DOCUMENTS = {
    IdentityDocument.DRIVING_LICENCE.value: "運転免許証 Driving licence (A)",
    IdentityDocument.PASSPORT.value: "旅券 Passport (A)",
    IdentityDocument.RESIDENCE_CARD.value: "在留カード Residence card (A)",
    IdentityDocument.NOTIFICATION_CARD.value: "通知カード Notification card (B)",
    IdentityDocument.HEALTH_INSURANCE.value: "健康保険証 Health insurance card (B)",
    IdentityDocument.PENSION_BOOK.value: "年金手帳 Pension book (B)",
    IdentityDocument.ISSUANCE_NOTICE.value: "交付通知書 Issuance notice (B)",
}
CHANNELS = {
    ApplicationChannel.COUNTER.value: "窓口 At the counter",
    ApplicationChannel.MAIL.value: "郵送 By mail",
    ApplicationChannel.ONLINE.value: "オンライン Online",
    ApplicationChannel.PHOTO_BOOTH.value: "証明写真機 Photo booth",
    ApplicationChannel.OUTREACH.value: "出張申請 Outreach",
}
SLOT_KINDS = {
    SlotKind.REGULAR.value: "平日 Regular",
    SlotKind.EXTENDED_HOURS.value: "平日夜間 Weekday evening",
    SlotKind.WEEKEND.value: "休日 Weekend",
}


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _card_files(office: Office) -> list[str]:
    return sorted(p.name for p in office.cards.glob("*.json")) if office.cards.is_dir() else []


def _card_path(office: Office, name: Any) -> Path:
    """A card file chosen from the reader's list; never a path the form makes up."""
    if str(name) not in _card_files(office):
        raise InvalidInput("choose the card on the reader from the list", field="card")
    return office.cards / str(name)


def _needs_authority(office: Office) -> None:
    if office.authority is None or office.master_key is None:
        raise Refused(
            "no_authority",
            "this office was started without the authority; cards cannot be personalised",
            message_ja="認証局に接続されていないため、カードの交付・更新はできません。",
        )


def _desk_page(request: Request, session: Any, done: str | None = None) -> Response:
    office = office_of(request)
    now = office.clock.now()
    with office.uow() as uow:
        applications = uow.cards.open_applications()
        slots = uow.cards.slots_from(now)
    return page(
        request,
        "cards.html",
        session,
        applications=applications,
        slots=slots,
        card_files=_card_files(office),
        documents=DOCUMENTS,
        channels=CHANNELS,
        slot_kinds=SLOT_KINDS,
        done=done,
    )


def routes(app: FastAPI) -> None:
    @app.get("/cards", response_class=HTMLResponse)
    def cards(request: Request) -> Response:
        return _desk_page(request, current(request, "cards.desk"))

    @app.post("/cards/{action}", response_class=HTMLResponse)
    async def act(request: Request, action: str) -> Response:
        permission = "cards.reset_pin" if action == "reset-pin" else "cards.desk"
        session, form = await posted(request, permission)
        handler = _ACTIONS.get(action)
        if handler is None:
            raise InvalidInput(f"no card-desk action {action!r}", field="action")
        office = office_of(request)
        done, resident = handler(office, form)
        office.auditor.record(
            session.user,
            session.role.value,
            f"card_{action}",
            resident,
            "card_desk",
            {"done": done},
        )
        return _desk_page(request, session, done)


def _apply(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    made = desk.apply_for_card(
        uow=office.uow(),
        resident_code=str(form.get("resident", "")).strip(),
        channel=str(form.get("channel", "")),
        clock=office.clock,
    )
    return f"申請を受け付けました Application {made.application_id}", made.resident_code


def _notices(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    sent = desk.send_notices(uow=office.uow(), clock=office.clock)
    return f"交付通知書 {len(sent)} 件 Notices sent: {len(sent)}", ""


def _slot(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    try:
        starts = datetime.fromisoformat(str(form.get("starts_at", ""))).replace(tzinfo=JST)
    except ValueError as exc:
        raise InvalidInput("the slot's start is a date and time", field="starts_at") from exc
    slot = desk.add_slot(
        uow=office.uow(),
        starts_at=starts,
        minutes=_int(form.get("minutes"), "minutes"),
        capacity=_int(form.get("capacity"), "capacity"),
        kind=str(form.get("kind", "")),
        clock=office.clock,
    )
    return f"交付枠を追加しました Slot {slot.slot_id}", ""


def _book(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    booked = desk.book_slot(
        uow=office.uow(),
        application_id=str(form.get("application", "")),
        slot_id=str(form.get("slot", "")),
        clock=office.clock,
    )
    return f"予約しました Booked {booked.application_id} → {booked.slot_id}", booked.resident_code


def _handover(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    _needs_authority(office)
    assert office.authority is not None and office.master_key is not None
    application = str(form.get("application", ""))
    office.cards.mkdir(parents=True, exist_ok=True)
    record = desk.hand_over(
        uow=office.uow(),
        application_id=application,
        documents=_list(form.get("documents")),
        pin=str(form.get("pin", "")),
        password=str(form.get("password", "")) or None,
        authority=office.authority,
        card_path=office.cards / f"{application}.json",
        master_key=office.master_key,
        clock=office.clock,
    )
    return f"交付しました Card {record.card_id} handed over", record.resident_code


def _lost(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    record = desk.report_lost(
        uow=office.uow(), card_id=str(form.get("card_id", "")), clock=office.clock
    )
    return f"一時停止しました Card {record.card_id} suspended", record.resident_code


def _found(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    record = desk.report_found(
        uow=office.uow(), card_id=str(form.get("card_id", "")), clock=office.clock
    )
    return f"一時停止を解除しました Card {record.card_id} active again", record.resident_code


def _renew(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    _needs_authority(office)
    assert office.authority is not None and office.master_key is not None
    record = desk.renew_certificates(
        uow=office.uow(),
        card_path=_card_path(office, form.get("card")),
        documents=_list(form.get("documents")),
        pin=str(form.get("pin", "")),
        password=str(form.get("password", "")) or None,
        authority=office.authority,
        master_key=office.master_key,
        clock=office.clock,
        force=form.get("force") == "yes",
    )
    return (
        f"電子証明書を更新しました Certificates renewed on {record.card_id}",
        record.resident_code,
    )


def _reset_pin(office: Office, form: dict[str, Any]) -> tuple[str, str]:
    if office.master_key is None:
        _needs_authority(office)
    assert office.master_key is not None
    record = desk.reset_pin(
        uow=office.uow(),
        card_path=_card_path(office, form.get("card")),
        documents=_list(form.get("documents")),
        kind=str(form.get("kind", "")),
        new_value=str(form.get("new_value", "")),
        master_key=office.master_key,
    )
    return f"暗証番号を初期化しました PIN reset on {record.card_id}", record.resident_code


def _int(value: Any, field: str) -> int:
    text = str(value or "")
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput(f"{field} is a whole number", field=field)
    return int(text)


_ACTIONS = {
    "apply": _apply,
    "notices": _notices,
    "slots": _slot,
    "book": _book,
    "handover": _handover,
    "lost": _lost,
    "found": _found,
    "renew": _renew,
    "reset-pin": _reset_pin,
}
