"""The issuance center over HTTP: the kiosks' only door.  Thin: parse, call the service, answer.

Endpoints that may wait for another party (the issuance asks juki and the
city; a sign-in may ask jpki for a fresh OCSP answer) are plain functions,
run in FastAPI's thread pool.  Opening a session and confirming a print
touch only the center's own store and are ``async``, answered on the event
loop: the trip to the thread pool and back cost more than their work.

Who may call what, by the name on the caller's certificate of the stores'
network: kiosks (``kiosk``, ``kiosk-…``) open sessions, issue, and confirm
or void their own print jobs; operators (``operator``, ``operator-…``,
made with ``kofu network cert``) read the settlement, the status and its
page.  Anyone else gets 403 ``caller_not_allowed``.  Without mutual TLS
(tests, one machine's own use) there is no name to check.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from kofu.center.api.status_page import render_status
from kofu.center.service import CenterService
from kofu.contracts.identity import DomicileAnswer
from kofu.contracts.store import IssueOptions
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput, Refused
from kofu.core.http import caller, every, party_app
from kofu.core.text import PlainText

__all__ = ["create_app"]


class AuthIn(BaseModel):
    certificate_b64: str
    signature_b64: str


class IssueIn(BaseModel):
    session: str
    request_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    certificate: str
    options: dict[str, Any] = Field(default_factory=dict)
    copies: int = 1
    store: str = Field(max_length=32)
    chain: str = Field(max_length=32)
    domicile_city: str | None = Field(default=None, pattern=r"^[0-9]{6}$")  # 本籍地 route


class DomicileIn(BaseModel):
    """本籍地利用登録 from a kiosk: the domicile city and the 本籍・筆頭者 as typed."""

    session: str
    city: str = Field(pattern=r"^[0-9]{6}$")
    domicile: PlainText = Field(min_length=1, max_length=128)
    head_name: PlainText = Field(min_length=1, max_length=64)


class VoidIn(BaseModel):
    reason: str = "print failure"


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not base64", field=field) from exc


def _options(given: dict[str, Any]) -> IssueOptions:
    """The kiosk's options as the store request carries them (``with`` → items, ``year``)."""
    renamed = {_KIOSK_NAMES.get(k, k): v for k, v in given.items()}
    return IssueOptions.checked(renamed, within="options")


_KIOSK_NAMES = {"with": "items", "year": "fiscal_year"}


def _month(text: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(text, "%Y-%m").replace(tzinfo=JST)
        end = (start + timedelta(days=32)).replace(day=1)
    except (ValueError, OverflowError) as exc:  # 9999-12 has no month after it
        raise InvalidInput("month is YYYY-MM", field="month") from exc
    return start, end


def _kiosk(request: Request) -> str:
    """The calling kiosk's network name ("" without mutual TLS): its sessions and jobs are its."""
    return caller(request) or ""


def _named(kind: str, doing: str) -> Any:
    """A route dependency letting in ``kind`` and ``kind-…`` (and any caller without mutual TLS)."""

    async def check(request: Request) -> None:
        who = caller(request)
        if who is None or who == kind or who.startswith(f"{kind}-"):
            return
        raise Refused(
            "caller_not_allowed",
            f"only {kind} certificates ({kind}, {kind}-...) may {doing}; this one is {who}'s",
            message_ja="システムの接続設定に誤りがあるため、現在交付できません。係員にお知らせください。",
        )

    return Depends(check)


KIOSKS = _named("kiosk", "use the kiosks' door")
OPERATORS = _named("operator", "read the settlement, the status and the alarms")


def create_app(service: CenterService, sweep_every: float = 30.0) -> FastAPI:
    """The center's API; every ``sweep_every`` seconds unconfirmed print jobs past the timeout void.

    The sweep runs in every worker; it is one conditional UPDATE, so workers
    sweeping at once void each job exactly once.  The same turn recovers
    issuances stuck ``requested`` past their lease (a worker died mid
    request), each taken by one worker only.
    """

    sweeping = every(sweep_every, service.sweep, at_start=False)
    app = party_app("kofu issuance center", __doc__, lifespan=sweeping)

    @app.post("/sessions", dependencies=[KIOSKS])
    async def open_session(request: Request) -> dict[str, str]:
        session, challenge = service.open_session(_kiosk(request))
        return {"session": session, "challenge_b64": base64.b64encode(challenge).decode()}

    @app.post("/sessions/{session}/authenticate", dependencies=[KIOSKS])
    def authenticate(session: str, body: AuthIn, request: Request) -> dict[str, Any]:
        who = service.authenticate(
            session,
            _b64(body.certificate_b64, "certificate_b64"),
            _b64(body.signature_b64, "signature_b64"),
            _kiosk(request),
        )
        return {"authenticated": True, "valid_until": who.not_after.isoformat()}

    @app.post("/issuances", dependencies=[KIOSKS])
    def issue(body: IssueIn, request: Request) -> dict[str, Any]:
        job = service.request(
            session=body.session,
            request_id=body.request_id,
            certificate=body.certificate,
            options=_options(body.options),
            copies=body.copies,
            store=body.store,
            chain=body.chain,
            domicile_city=body.domicile_city,
            kiosk=_kiosk(request),
        )
        return {
            "request_id": job.request_id,
            "city": job.city,
            "certificate": job.certificate,
            "copies": job.copies,
            "fee": job.fee,
            "holder_digest": job.holder_digest,
            "pdf_base64": base64.b64encode(job.pdf).decode(),
        }

    @app.get("/cities", dependencies=[KIOSKS])
    def cities() -> list[dict[str, str]]:
        """The cities taking part, for a kiosk's choice of domicile city."""
        return service.cities.connected()

    @app.post("/domicile-registrations", dependencies=[KIOSKS])
    def register_domicile(body: DomicileIn, request: Request) -> DomicileAnswer:
        return service.register_domicile(
            session=body.session,
            city=body.city,
            domicile=body.domicile,
            head_name=body.head_name,
            kiosk=_kiosk(request),
        )

    @app.post("/issuances/{request_id}/printed", dependencies=[KIOSKS])
    async def printed(request_id: str, request: Request) -> dict[str, str]:
        service.printed(request_id, _kiosk(request))
        return {"request_id": request_id, "state": "printed"}

    @app.post("/issuances/{request_id}/voided", dependencies=[KIOSKS])
    def voided(request_id: str, body: VoidIn, request: Request) -> dict[str, str]:
        service.voided(request_id, body.reason, _kiosk(request))
        return {"request_id": request_id, "state": "voided"}

    @app.get("/settlement", dependencies=[OPERATORS])
    def settlement(month: str) -> dict[str, Any]:
        start, end = _month(month)
        return {"month": month, "rows": service.settlement(start, end)}

    @app.get("/status", dependencies=[OPERATORS])
    def status() -> dict[str, Any]:
        return service.status()

    @app.get("/", response_class=HTMLResponse, dependencies=[OPERATORS])
    def status_page() -> HTMLResponse:
        return HTMLResponse(render_status(service.status()))

    return app
