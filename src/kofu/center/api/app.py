"""The issuance center over HTTP: the kiosks' only door.  Thin: parse, call the service, answer.

Endpoints that may wait for another party (the issuance asks juki and the
city; a sign-in may ask jpki for a fresh OCSP answer) are plain functions,
run in FastAPI's thread pool.  Opening a session and confirming a print
touch only the center's own store and are ``async``, answered on the event
loop: the trip to the thread pool and back cost more than their work.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from kofu.center.api.status_page import render_status
from kofu.center.service import CenterService
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput
from kofu.core.http import every, party_app
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


def _month(text: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(text, "%Y-%m").replace(tzinfo=JST)
        end = (start + timedelta(days=32)).replace(day=1)
    except (ValueError, OverflowError) as exc:  # 9999-12 has no month after it
        raise InvalidInput("month is YYYY-MM", field="month") from exc
    return start, end


def create_app(service: CenterService, sweep_every: float = 30.0) -> FastAPI:
    """The center's API; every ``sweep_every`` seconds unconfirmed print jobs past the timeout void.

    The sweep runs in every worker; it is one conditional UPDATE, so workers
    sweeping at once void each job exactly once.  The same turn recovers
    issuances stuck ``requested`` past their lease (a worker died mid
    request), each taken by one worker only.
    """

    sweeping = every(sweep_every, service.sweep, at_start=False)
    app = party_app("kofu issuance center", __doc__, lifespan=sweeping)

    @app.post("/sessions")
    async def open_session() -> dict[str, str]:
        session, challenge = service.open_session()
        return {"session": session, "challenge_b64": base64.b64encode(challenge).decode()}

    @app.post("/sessions/{session}/authenticate")
    def authenticate(session: str, body: AuthIn) -> dict[str, Any]:
        who = service.authenticate(
            session,
            _b64(body.certificate_b64, "certificate_b64"),
            _b64(body.signature_b64, "signature_b64"),
        )
        return {"authenticated": True, "valid_until": who.not_after.isoformat()}

    @app.post("/issuances")
    def issue(body: IssueIn) -> dict[str, Any]:
        job = service.request(
            session=body.session,
            request_id=body.request_id,
            certificate=body.certificate,
            options=body.options,
            copies=body.copies,
            store=body.store,
            chain=body.chain,
            domicile_city=body.domicile_city,
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

    @app.get("/cities")
    def cities() -> list[dict[str, str]]:
        """The cities taking part, for a kiosk's choice of domicile city."""
        return service.cities.connected()

    @app.post("/domicile-registrations")
    def register_domicile(body: DomicileIn) -> dict[str, Any]:
        return service.register_domicile(
            session=body.session, city=body.city, domicile=body.domicile, head_name=body.head_name
        )

    @app.post("/issuances/{request_id}/printed")
    async def printed(request_id: str) -> dict[str, str]:
        service.printed(request_id)
        return {"request_id": request_id, "state": "printed"}

    @app.post("/issuances/{request_id}/voided")
    def voided(request_id: str, body: VoidIn) -> dict[str, str]:
        service.voided(request_id, body.reason)
        return {"request_id": request_id, "state": "voided"}

    @app.get("/settlement")
    def settlement(month: str) -> dict[str, Any]:
        start, end = _month(month)
        return {"month": month, "rows": service.settlement(start, end)}

    @app.get("/status")
    def status() -> dict[str, Any]:
        return service.status()

    @app.get("/", response_class=HTMLResponse)
    def status_page() -> HTMLResponse:
        return HTMLResponse(render_status(service.status()))

    return app
