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
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from kofu.center.api.status_page import render_status
from kofu.center.domain.settlement import month_span
from kofu.center.services.issuance import CenterService
from kofu.contracts.identity import DomicileAnswer
from kofu.contracts.kiosk import (
    ConnectedCity,
    DomicileRequest,
    IssuanceRequest,
    PrintJob,
    PrintSettled,
    SessionOpened,
    SignedIn,
    SignIn,
    VoidRequest,
)
from kofu.contracts.operator import CenterStatus, Settlement
from kofu.core.errors import InvalidInput, Refused
from kofu.core.http import caller, every, party_app

__all__ = ["create_app"]


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not base64", field=field) from exc


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
    async def open_session(request: Request) -> SessionOpened:
        session, challenge = service.open_session(_kiosk(request))
        return SessionOpened(session=session, challenge_b64=base64.b64encode(challenge).decode())

    @app.post("/sessions/{session}/authenticate", dependencies=[KIOSKS])
    def authenticate(session: str, body: SignIn, request: Request) -> SignedIn:
        who = service.authenticate(
            session,
            _b64(body.certificate_b64, "certificate_b64"),
            _b64(body.signature_b64, "signature_b64"),
            _kiosk(request),
        )
        return SignedIn(authenticated=True, valid_until=who.not_after)

    @app.post("/issuances", dependencies=[KIOSKS])
    def issue(body: IssuanceRequest, request: Request) -> PrintJob:
        job = service.request(
            session=body.session,
            request_id=body.request_id,
            certificate=body.certificate,
            options=body.options,
            copies=body.copies,
            store=body.store,
            chain=body.chain,
            domicile_city=body.domicile_city,
            kiosk=_kiosk(request),
        )
        return PrintJob.model_validate(
            {
                "request_id": job.request_id,
                "city": job.city,
                "certificate": job.certificate,
                "copies": job.copies,
                "fee": job.fee,
                "holder_digest": job.holder_digest,
                "pdf_base64": base64.b64encode(job.pdf).decode(),
            }
        )

    @app.get("/cities", dependencies=[KIOSKS])
    def cities() -> list[ConnectedCity]:
        """The cities taking part, for a kiosk's choice of domicile city."""
        return service.cities.connected()

    @app.post("/domicile-registrations", dependencies=[KIOSKS])
    def register_domicile(body: DomicileRequest, request: Request) -> DomicileAnswer:
        return service.register_domicile(
            session=body.session,
            city=body.city,
            domicile=body.domicile,
            head_name=body.head_name,
            kiosk=_kiosk(request),
        )

    @app.post("/issuances/{request_id}/printed", dependencies=[KIOSKS])
    async def printed(request_id: str, request: Request) -> PrintSettled:
        service.printed(request_id, _kiosk(request))
        return PrintSettled(request_id=request_id, state="printed")

    @app.post("/issuances/{request_id}/voided", dependencies=[KIOSKS])
    def voided(request_id: str, body: VoidRequest, request: Request) -> PrintSettled:
        service.voided(request_id, body.reason, _kiosk(request))
        return PrintSettled(request_id=request_id, state="voided")

    @app.get("/settlement", dependencies=[OPERATORS])
    def settlement(month: str) -> Settlement:
        """月次精算: printed issuances, copies and fees per city and store chain in the month."""
        start, end = month_span(month)
        return Settlement.model_validate({"month": month, "rows": service.settlement(start, end)})

    @app.get("/status", dependencies=[OPERATORS])
    def status() -> CenterStatus:
        """稼働状況: alarms, the cities they stopped, the issuance log's states."""
        return CenterStatus.model_validate(service.status())

    @app.get("/", response_class=HTMLResponse, dependencies=[OPERATORS])
    def status_page() -> HTMLResponse:
        return HTMLResponse(render_status(service.status()))

    return app
