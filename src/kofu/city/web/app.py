"""The office web app: sign-in, sessions, CSRF, roles, and the pages of each desk.

Served over HTTPS with the city's certificate from the network CA (the
browser trusts that CA; staff sign in with a password, so no client
certificate is asked).  Every page is rendered on the server from jinja2
templates; there is no script, no build step and nothing from outside.

Every request but the sign-in page needs a live session; every form carries
the session's CSRF token; every page names the permission it needs and a
role without it gets 403 ``caller_not_allowed``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.domain.office import PERMISSIONS, PURPOSES
from kofu.city.domain.ports import CertificateAuthority
from kofu.city.services.office import (
    Auditor,
    SessionPolicy,
    StaffSession,
    csrf_ok,
    find_session,
    sign_in,
    sign_out,
)
from kofu.city.web.labels import (
    ACTION_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    local_time,
    shown,
)
from kofu.core.clock import JST, Clock
from kofu.core.errors import KofuError, Refused

__all__ = ["COOKIE", "Office", "create_office_app"]

HERE = Path(__file__).parent
COOKIE = "__Host-office"  # __Host-: Secure, Path=/, no Domain; the browser keeps it to this origin
LOGIN_COOKIE = "__Host-office-login"  # the sign-in form's own CSRF pair, before any session

MENU = (  # (path, permission, Japanese, English)
    ("/residents", "residents.search", "住民検索", "Residents"),
    ("/events", "events.apply", "異動届", "Register changes"),
    ("/cards", "cards.desk", "カード交付", "Card desk"),
    ("/supervisor", "events.restricted", "監督者", "Supervisor"),
    ("/audit", "audit.read", "監査証跡", "Audit trail"),
    ("/planning", "planning.sheets", "事務事業評価", "Evaluation sheets"),
)


class NotAllowed(Refused):
    """The signed-in role may not do this."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "caller_not_allowed",
            "your role may not open this page",
            message_ja="この画面を開く権限がありません。",
        )


class NeedsSignIn(Exception):
    """No live session: the browser is sent to the sign-in page."""


@dataclass
class Office:
    """What every page of one city's office needs, built once."""

    engine: Engine
    city: str
    city_name: str
    clock: Clock
    policy: SessionPolicy
    auditor: Auditor
    authority: CertificateAuthority | None
    master_key: bytes | None
    cards: Path  # the card reader's folder: card files written at handover, read for renewal
    printed: OrderedDict[tuple[str, int], bytes] = field(default_factory=OrderedDict)
    _printed_lock: threading.Lock = field(default_factory=threading.Lock)

    def uow(self) -> OfficeUnitOfWork:
        return OfficeUnitOfWork(self.engine, self.city, today=self.clock.today())

    def keep_pdf(self, session: StaffSession, number: int, pdf: bytes) -> None:
        """The last PDFs a clerk issued, for download; nothing is kept on disk."""
        with self._printed_lock:
            self.printed[(session.token_hash, number)] = pdf
            while len(self.printed) > 64:
                self.printed.popitem(last=False)


_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


_templates.filters["shown"] = shown
_templates.filters["local_time"] = local_time
_templates.globals.update(
    kinds_ja=KIND_LABELS, fields_ja=FIELD_LABELS, status_ja=STATUS_LABELS, actions_ja=ACTION_LABELS
)


def office_of(request: Request) -> Office:
    office: Office = request.app.state.office
    return office


def page(
    request: Request,
    template: str,
    session: StaffSession | None,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """One page rendered with the header, the menu the role may use and the CSRF token."""
    office = office_of(request)
    menu = [
        (path, ja, en)
        for path, permission, ja, en in MENU
        if session is not None and session.role in PERMISSIONS[permission]
    ]
    html = _templates.get_template(template).render(
        office=office,
        session=session,
        menu=menu,
        path=request.url.path,
        purposes=PURPOSES,
        now=office.clock.now().astimezone(JST),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def current(request: Request, permission: str | None = None) -> StaffSession:
    """The signed-in staff member, refused when the role lacks ``permission``."""
    office = office_of(request)
    session = find_session(
        uow=office.uow(),
        token=request.cookies.get(COOKIE),
        clock=office.clock,
        policy=office.policy,
    )
    if session is None:
        raise NeedsSignIn()
    if permission is not None and not session.may(permission):
        office.auditor.record(
            session.user, session.role.value, "refused", "", "", {"path": request.url.path}
        )
        raise NotAllowed()
    request.state.session = session
    return session


async def posted(request: Request, permission: str | None) -> tuple[StaffSession, dict[str, Any]]:
    """A form sent by a signed-in member with the right role and the session's CSRF token."""
    session = current(request)
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        items = form.getlist(key)
        values[key] = items if len(items) > 1 else items[0]
    if not csrf_ok(session, values.get("csrf") if isinstance(values.get("csrf"), str) else None):
        raise Refused(
            "csrf_failed",
            "this form is not from your session; open the page again",
            message_ja="この送信は現在のセッションの画面からではありません。画面を開き直してください。",
        )
    if permission is not None and not session.may(permission):
        office_of(request).auditor.record(
            session.user, session.role.value, "refused", "", "", {"path": request.url.path}
        )
        raise NotAllowed()
    return session, values


def create_office_app(office: Office) -> FastAPI:
    """The office app of one city."""
    from kofu.city.web import audit_pages, counter, desk

    app = FastAPI(
        title=f"kofu office {office.city}", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.office = office
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'self'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # the error page's way back
        response.headers["Strict-Transport-Security"] = "max-age=31536000"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NeedsSignIn)
    async def to_sign_in(request: Request, _exc: NeedsSignIn) -> Response:
        response = RedirectResponse("/login?expired=1", status_code=303)
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    @app.exception_handler(KofuError)
    async def refused(request: Request, exc: KofuError) -> Response:
        session = getattr(request.state, "session", None)
        words = exc.to_dict()
        back = request.headers.get("referer", "")
        origin = f"{request.url.scheme}://{request.url.netloc}/"
        back = back if back.startswith(origin) else "/"
        return page(request, "error.html", session, status=exc.status, error=words, back=back)

    _sign_in_pages(app)
    counter.routes(app)
    desk.routes(app)
    audit_pages.routes(app)
    return app


def _sign_in_pages(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        session = current(request)
        return page(request, "home.html", session)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, expired: int = 0) -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, login_csrf=token, expired=bool(expired))
        response.set_cookie(
            LOGIN_COOKIE, token, secure=True, httponly=True, samesite="strict", path="/"
        )
        return response

    @app.post("/login", response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        office = office_of(request)
        form = await request.form()
        given, expected = str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Refused(
                "csrf_failed",
                "the sign-in form is not from this browser; open it again",
                message_ja="サインイン画面を開き直してください。",
            )
        try:
            token, _session = sign_in(
                uow=office.uow(),
                user=str(form.get("user", ""))[:64],
                password=str(form.get("password", ""))[:256],
                clock=office.clock,
                policy=office.policy,
                auditor=office.auditor,
            )
        except Refused as exc:
            fresh = secrets.token_urlsafe(32)
            response = page(
                request,
                "login.html",
                None,
                status=exc.status,
                login_csrf=fresh,
                error=exc.to_dict(),
            )
            response.set_cookie(
                LOGIN_COOKIE, fresh, secure=True, httponly=True, samesite="strict", path="/"
            )
            return response
        signed_in = RedirectResponse("/", status_code=303)
        signed_in.set_cookie(  # a new token: a cookie planted before sign-in is never reused
            COOKIE,
            token,
            secure=True,
            httponly=True,
            samesite="strict",
            path="/",
            max_age=int(office.policy.absolute / timedelta(seconds=1)),
        )
        signed_in.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True)
        return signed_in

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        office = office_of(request)
        session, _ = await posted(request, None)  # signing out needs only the session
        sign_out(uow=office.uow(), session=session)
        office.auditor.record(session.user, session.role.value, "sign_out", "", "", {})
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response
