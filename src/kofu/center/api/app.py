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
page; supervisors (``operator-supervisor``, ``operator-supervisor-…``, who
are operators too) also resume a city an alarm stopped.  Anyone else gets
403 ``caller_not_allowed``.  Without mutual TLS
(tests, one machine's own use) there is no name to check.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kofu.center.api.status_page import render_status
from kofu.center.domain.issuance import Issuance
from kofu.center.domain.log import LogQuery
from kofu.center.domain.resume import is_supervisor, not_a_supervisor
from kofu.center.domain.settlement import month_span
from kofu.center.services.issuance import CenterService
from kofu.contracts.identity import DomicileAnswer
from kofu.contracts.kiosk import (
    ConnectedCity,
    DomicileRequest,
    IssuanceRequest,
    PrintJob,
    PrintSettled,
    SessionEnded,
    SessionOpened,
    SignedIn,
    SignIn,
    VoidRequest,
)
from kofu.contracts.operator import (
    CenterStatus,
    IssuanceLog,
    Resumed,
    ResumeRequest,
    Settlement,
)
from kofu.core.clock import JST
from kofu.core.errors import InvalidInput, Refused
from kofu.core.http import ERROR_RESPONSES, caller, every, party_app

__all__ = ["create_app"]


def _b64(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not base64", field=field) from exc


# The page answers HTML, its refusals (a caller not allowed, a search out of shape) kofu's JSON.
def _json_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {
        code: {
            "description": ERROR_RESPONSES[code]["description"],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        }
        for code in codes
    }


_PAGE_ERRORS = _json_errors(403, 422)
_FORM_ERRORS = _json_errors(403, 404, 409, 422)


def _local_time(text: str, field: str) -> datetime | None:
    """A form's date and time; without an offset it is Japan's time (what the operator reads)."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"{field} is a date and time (2026-11-24T09:00)", field=field) from exc
    return at if at.tzinfo else at.replace(tzinfo=JST)


def _entry(issuance: Issuance) -> dict[str, Any]:
    """A log entry as the contract says it: everything but the print job, the card and kiosk."""
    fields = ("request_id", "state", "city", "store", "chain", "certificate", "copies", "fee")
    values = {name: getattr(issuance, name) for name in fields}
    return values | {
        "created_at": issuance.created_at,
        "updated_at": issuance.updated_at,
        "reason": issuance.reason,
    }


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


async def _supervisor(request: Request) -> None:
    """Only a supervisor's certificate resumes a city (any caller without mutual TLS)."""
    who = caller(request)
    if not is_supervisor(who):
        raise not_a_supervisor(str(who))


SUPERVISORS = Depends(_supervisor)
_CITY_PATH = Path(min_length=1, max_length=16, description="the city's six-digit code")


def _same_site(request: Request) -> None:
    """The page's form comes from the page: a form another site makes the browser send is 403.

    The browser presents the operator's certificate to any page that posts
    here, so the form's origin is checked (browsers send it on every POST).
    """
    origin = request.headers.get("origin")
    site = request.headers.get("sec-fetch-site")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if (origin and origin != "null" and urlsplit(origin)._replace(path="").geturl() != own) or (
        site not in (None, "same-origin", "none")
    ):
        raise Refused("cross_site_form", "the resume form is sent from the center's own page")


async def _form(request: Request) -> dict[str, str]:
    """A plain HTML form's fields (application/x-www-form-urlencoded), each once."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def _health(service: CenterService) -> dict[str, str | None]:
    """Each connected city's name by its code (None: not answering); none if none can be asked."""
    try:
        return service.cities.health()
    except Exception:  # the page shows codes rather than fail for a city's link
        return {}


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

    @app.post("/sessions/{session}/end", dependencies=[KIOSKS])
    async def end_session(session: str, request: Request) -> SessionEnded:
        """The resident left (中止, idle): the session is never used again; its own kiosk only."""
        service.end_session(session, _kiosk(request))
        return SessionEnded(session=session, ended=True)

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

    @app.get("/log", dependencies=[OPERATORS])
    def log(
        since: datetime | None = None,
        until: datetime | None = None,
        city: str | None = None,
        chain: str | None = None,
        state: str | None = None,
        limit: int = 100,
    ) -> IssuanceLog:
        """交付記録: entries created in [since, until) of a city, chain and state, newest first."""
        query = LogQuery(since, until, city, chain, state, limit)
        return IssuanceLog.model_validate({"entries": [_entry(i) for i in service.log(query)]})

    @app.get("/", response_class=HTMLResponse, dependencies=[OPERATORS], responses=_PAGE_ERRORS)
    def status_page(
        request: Request,
        since: str = "",
        until: str = "",
        city: str = "",
        chain: str = "",
        state: str = "",
    ) -> HTMLResponse:
        """The status page with the log searched by the form's fields (empty: any)."""
        query = LogQuery(
            _local_time(since, "since"),
            _local_time(until, "until"),
            city or None,
            chain or None,
            state or None,
        )
        page = render_status(
            service.status(),
            query,
            service.log(query),
            supervisor=is_supervisor(caller(request)),
            health=_health(service),
        )
        return HTMLResponse(page)

    @app.post("/alarms/{city}/resume", dependencies=[SUPERVISORS])
    def resume(body: ResumeRequest, request: Request, city: str = _CITY_PATH) -> Resumed:
        """交付再開: the city an alarm stopped issues again; kept with who, when and why."""
        resumed = service.resume(
            request_id=body.request_id,
            city=city,
            reason=body.reason,
            operator=caller(request) or "",
        )
        return Resumed.model_validate(resumed)

    @app.post("/alarms/{city}/resume/form", dependencies=[SUPERVISORS], responses=_FORM_ERRORS)
    async def resume_form(request: Request, city: str = _CITY_PATH) -> RedirectResponse:
        """The status page's resume button: the same resume, then back to the page (303)."""
        _same_site(request)
        fields = await _form(request)
        service.resume(
            request_id=fields.get("request_id", ""),
            city=city,
            reason=fields.get("reason", ""),
            operator=caller(request) or "",
        )
        return RedirectResponse("/", status_code=303)

    return app
