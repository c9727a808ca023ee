"""The counter (窓口): find a resident, open the record, issue certificates, register changes.

A record opens with its individual number masked; showing it asks for a
purpose from the list and writes an audit row first.  A support-measure
subject's record (支援措置対象者) opens only with a purpose, audited, under a
warning banner, and the counter refuses to issue for it (the domain's rule
``check_not_protected`` says the same at the store).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from kofu.city.adapters.office import DryRun
from kofu.city.domain.certificates import CertificateType, IssueRequest, Item
from kofu.city.domain.events import event_kinds
from kofu.city.domain.office import COUNTER_FEES, RESTRICTED_EVENTS, mask_number
from kofu.city.services.events import apply_events
from kofu.city.services.issuance import issue_certificate, record_refusal
from kofu.city.services.office import check_purpose, search_residents
from kofu.city.services.queries import show_resident
from kofu.city.web.app import NotAllowed, current, office_of, page, posted
from kofu.core.errors import InvalidInput, NotFound, Refused
from kofu.core.identifiers import ResidentCode

__all__ = ["routes"]

TYPE_LABELS = {
    "juminhyo": "住民票の写し Residence certificate",
    "johyo": "住民票の除票の写し Removed-record certificate",
    "kisai": "住民票記載事項証明書 Certificate of recorded items",
    "johyo-kisai": "住民票除票記載事項証明書 Certificate of removed-record items",
    "inkan": "印鑑登録証明書 Seal registration certificate",
    "kazei": "課税証明書 Tax certificate",
    "shotoku": "所得証明書 Income certificate",
    "koseki-zenbu": "戸籍全部事項証明書 Family register (all)",
    "koseki-kojin": "戸籍個人事項証明書 Family register (individual)",
    "fuhyo": "戸籍の附票の写し Family register attachment",
    "tenshutsu": "転出証明書 Move-out certificate",
}
ITEM_LABELS = {
    Item.HEAD.value: "世帯主・続柄 Household head and relationship",
    Item.DOMICILE.value: "本籍・筆頭者 Domicile and head of register",
    Item.INDIVIDUAL_NUMBER.value: "個人番号 Individual number",
    Item.RESIDENT_CODE.value: "住民票コード Resident code",
    Item.FOREIGN.value: "国籍・在留資格等 Nationality and residence status",
}


def _date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} is a date like 1980-04-01", field=field) from exc


def _code(resident: str) -> str:
    return str(ResidentCode(resident))


def _record(request: Request, resident: str) -> dict[str, Any]:
    """The record with its history, whether it is protected today, and the person's cards."""
    office = office_of(request)
    out = show_resident(uow=office.uow(), resident_code=_code(resident), as_of=None)
    today = office.clock.today()
    with office.uow() as uow:
        measures = uow.registers.support_measures(out["resident_code"])
        out["protected"] = any(m.active_on(today) for m in measures)
        out["cards"] = [c.model_dump(mode="json") for c in uow.cards.cards_of(out["resident_code"])]
        person = uow.registers.resident(out["resident_code"])
        out["address_text"] = person.address.text if person else ""
        members = uow.registers.household(person.household_id) if person else []
        out["household"] = [
            {"resident_code": m.resident_code, "name": m.name, "relationship": m.relationship}
            for m in members
        ]
    return out


def routes(app: FastAPI) -> None:
    @app.get("/residents", response_class=HTMLResponse)
    def search(
        request: Request, name: str = "", kana: str = "", birth: str = "", address: str = ""
    ) -> Response:
        session = current(request, "residents.search")
        office = office_of(request)
        found = search_residents(
            uow=office.uow(),
            name=name.strip()[:64],
            kana=kana.strip()[:64],
            birth_date=_date(birth.strip(), "birth"),
            address=address.strip()[:64],
            today=office.clock.today(),
        )
        asked = {"name": name, "kana": kana, "birth": birth, "address": address}
        return page(request, "search.html", session, found=found, asked=asked)

    @app.get("/residents/{resident}", response_class=HTMLResponse)
    def record(request: Request, resident: str) -> Response:
        session = current(request, "residents.view")
        out = _record(request, resident)
        if out["protected"]:  # nothing of it is shown before a purpose is given
            return page(request, "protected.html", session, person=_heading(out))
        return _show(request, session, out, revealed=False)

    @app.post("/residents/{resident}/open", response_class=HTMLResponse)
    async def open_protected(request: Request, resident: str) -> Response:
        session, form = await posted(request, "residents.view")
        purpose = check_purpose(form.get("purpose"))
        out = _record(request, resident)
        office_of(request).auditor.record(
            session.user, session.role.value, "open_protected", out["resident_code"], purpose, {}
        )
        return _show(request, session, out, revealed=False, purpose=purpose)

    @app.post("/residents/{resident}/reveal", response_class=HTMLResponse)
    async def reveal(request: Request, resident: str) -> Response:
        session, form = await posted(request, "residents.view")
        purpose = check_purpose(form.get("purpose"))
        out = _record(request, resident)
        office_of(request).auditor.record(
            session.user, session.role.value, "reveal_number", out["resident_code"], purpose, {}
        )
        return _show(request, session, out, revealed=True, purpose=purpose)

    @app.get("/residents/{resident}/issue", response_class=HTMLResponse)
    def issue_form(request: Request, resident: str) -> Response:
        session = current(request, "certificates.issue")
        out = _record(request, resident)
        _refuse_if_protected(out)
        return _issue_page(request, session, out)

    @app.post("/residents/{resident}/issue", response_class=HTMLResponse)
    async def issue(request: Request, resident: str) -> Response:
        session, form = await posted(request, "certificates.issue")
        office = office_of(request)
        out = _record(request, resident)
        try:
            _refuse_if_protected(out)
        except Refused as refusal:  # counted by reason on the dashboard
            record_refusal(office.uow(), refusal, office.clock.now())
            raise
        kind = str(form.get("type", ""))
        copies = _copies(form.get("copies"))
        fee = COUNTER_FEES.get(kind, 0) * copies
        if form.get("paid") != "yes":
            raise InvalidInput("tick that the fee was received before issuing", field="paid")
        request_ = _issue_request(kind, out["resident_code"], form)
        numbers = []
        for _ in range(copies):  # each copy is its own issuance with its own number
            issued = issue_certificate(uow=office.uow(), request=request_, clock=office.clock)
            office.keep_pdf(session, issued.issue_number, issued.pdf)
            numbers.append(issued.issue_number)
            office.auditor.record(
                session.user,
                session.role.value,
                "issue_certificate",
                out["resident_code"],
                "certificate",
                {
                    "type": kind,
                    "issue_number": issued.issue_number,
                    "items": sorted(request_.items),
                },
            )
        return page(
            request,
            "issued.html",
            session,
            person=_heading(out),
            numbers=numbers,
            label=TYPE_LABELS.get(kind, kind),
            fee=fee,
            reprint=dict(form) | {"csrf": session.csrf},
        )

    @app.get("/issued/{number}.pdf")
    def pdf(request: Request, number: int) -> Response:
        session = current(request, "certificates.issue")
        data = office_of(request).printed.get((session.token_hash, number))
        if data is None:
            raise NotFound(
                "this certificate is not kept for download any more; issue it again (a new number)",
                field="number",
            )
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="certificate-{number}.pdf"'},
        )

    _event_routes(app)


def _heading(out: dict[str, Any]) -> dict[str, Any]:
    rec = out["record"]
    return {"resident_code": out["resident_code"], "name": rec["name"], "kana": rec["kana"]}


RESIDENCE = ("juminhyo", "johyo")  # the types with household, items and history lines
BY_YEAR = ("kazei", "shotoku")  # the types issued for a fiscal year


def _issue_request(kind: str, resident: str, form: dict[str, Any]) -> IssueRequest:
    """The request from the form, with only the options the chosen type takes.

    The one form shows every option; those of another type (a year left
    selected for a residence certificate) are not part of this request.
    """
    items = form.get("items", []) if kind in RESIDENCE else []
    year = str(form.get("year", "")) if kind in BY_YEAR else ""
    if year and not (year.isdigit() and len(year) == 4):
        raise InvalidInput("the fiscal year is a year like 2025", field="year")
    return IssueRequest.parse(
        type=kind,
        resident_code=resident,
        household=(
            str(form.get("household") or "self") if kind in ("juminhyo", "tenshutsu") else None
        ),
        items=[items] if isinstance(items, str) else list(items),
        history=kind in RESIDENCE and form.get("history") == "yes",
        fiscal_year=int(year) if year else None,
    )


def _copies(value: Any) -> int:
    text = str(value or "1")
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise InvalidInput("copies is a number from 1 to 10", field="copies")
    return int(text)


def _refuse_if_protected(out: dict[str, Any]) -> None:
    if out["protected"]:
        raise Refused(
            "support_measure",
            "this person is under a support measure: the counter issues nothing here; "
            "a supervisor checks the request against the measure",
            message_ja="支援措置対象者です。窓口での交付はできません。監督者が申出を審査します。",
        )


def _show(
    request: Request,
    session: Any,
    out: dict[str, Any],
    *,
    revealed: bool,
    purpose: str | None = None,
) -> Response:
    number = out["record"]["individual_number"]
    return page(
        request,
        "record.html",
        session,
        out=out,
        rec=out["record"],
        number=number if revealed else mask_number(number),
        revealed=revealed,
        purpose=purpose,
    )


def _issue_page(request: Request, session: Any, out: dict[str, Any]) -> Response:
    office = office_of(request)
    return page(
        request,
        "issue.html",
        session,
        person=_heading(out),
        types=[(t.value, TYPE_LABELS[t.value], COUNTER_FEES[t.value]) for t in CertificateType],
        items=ITEM_LABELS,
        years=list(range(office.clock.today().year, office.clock.today().year - 5, -1)),
    )


def _event_form(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a form: the JSON-lines box, or the fields of one event of the chosen kind."""
    lines = str(form.get("batch", "")).strip()
    if lines:
        try:
            events = [json.loads(line) for line in lines.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"the batch is not JSON lines: {exc.msg}", field="batch") from exc
        if not all(isinstance(e, dict) for e in events):
            raise InvalidInput("each line of the batch is one JSON object", field="batch")
        return events
    kind = str(form.get("kind", ""))
    event: dict[str, Any] = {"kind": kind}
    for key, value in form.items():
        if not key.startswith("f_") or not str(value).strip():
            continue
        text = str(value).strip()
        if text[:1] in "{[":
            try:
                event[key[2:]] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{key[2:]}: not JSON ({exc.msg})", field=key[2:]) from exc
        else:
            event[key[2:]] = text
    return [event]


def _check_restricted(session: Any, events: list[dict[str, Any]]) -> None:
    if any(e.get("kind") in RESTRICTED_EVENTS for e in events) and not session.may(
        "events.restricted"
    ):
        raise NotAllowed()


def _event_routes(app: FastAPI) -> None:
    @app.get("/events", response_class=HTMLResponse)
    def events_form(request: Request, kind: str = "move_within", resident: str = "") -> Response:
        session = current(request, "events.apply")
        kinds = [
            k
            for k in event_kinds()
            if k["kind"] not in RESTRICTED_EVENTS or session.may("events.restricted")
        ]
        chosen = next((k for k in kinds if k["kind"] == kind), kinds[0])
        return page(
            request, "events.html", session, kinds=kinds, chosen=chosen, resident=resident[:16]
        )

    @app.post("/events/preview", response_class=HTMLResponse)
    async def preview(request: Request) -> Response:
        session, form = await posted(request, "events.apply")
        events = _event_form(form)
        _check_restricted(session, events)
        office = office_of(request)
        dry = DryRun(office.engine, office.city, today=office.clock.today())
        changes = apply_events(uow=dry, events=events, clock=office.clock)  # rolled back
        return page(
            request,
            "preview.html",
            session,
            changes=[c.model_dump(mode="json") for c in changes],
            batch="\n".join(json.dumps(e, ensure_ascii=False) for e in events),
        )

    @app.post("/events/apply", response_class=HTMLResponse)
    async def apply(request: Request) -> Response:
        session, form = await posted(request, "events.apply")
        events = _event_form({"batch": form.get("batch", "")})
        _check_restricted(session, events)
        office = office_of(request)
        changes = apply_events(uow=office.uow(), events=events, clock=office.clock)
        for change in changes:
            office.auditor.record(
                session.user,
                session.role.value,
                "register_change",
                change.resident,
                "register_change",
                {"kind": change.kind, "effective": change.effective.isoformat()},
            )
        return page(
            request,
            "preview.html",
            session,
            changes=[c.model_dump(mode="json") for c in changes],
            applied=True,
        )
