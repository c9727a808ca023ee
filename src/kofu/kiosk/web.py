"""The kiosk page: the store's multi-copy machine as a resident meets it, in six languages.

The flow, one decision per screen under a step bar: administrative services →
residence city or domicile city (本籍地) → 注意事項 to accept → the card → the
PIN (checked by the card; a wrong one stays on the PIN screen with the tries
left) → the certificate → the options that fit it (the household and items of
a 住民票, the year of a tax or income certificate) → copies → the summary and
the fee → print → done.  戻る and 中止 are on every screen; the language
switch (``?lang=``) works on every screen without losing the job.

Nothing is asked of the center before the resident confirms the fee: the
request (which renders the document) is made only on 料金を支払って印刷する,
so 中止 on the fee screen leaves nothing rendered, nothing charged.  The fee
shown is the machine's price list; should the city's answer differ, the job
is voided uncharged and the resident told.  A visit ends with the print, with
中止, and after 60 s without a touch (the page returns to the start itself,
and the server forgets a visit untouched that long): the card and the center
session are forgotten, so a second print needs the card and the PIN again.
A session signed in and left unspent (中止, idle, 戻る to the card or the PIN)
is ended at the center too, so nothing can be asked on it afterwards.  The
end is sent by a thread of its own and the resident's screen waits for its
answer at most ``END_WAIT`` seconds: a center that hangs cannot hold the
start screen back.  The kiosk has forgotten the session before it is sent,
and the center takes a session only from the kiosk that opened it, so an end
still on its way leaves nobody able to use it; should it never arrive, the
session lapses at the center.

The words are in gettext catalogues (kofu.kiosk.i18n), the markup in Jinja
templates; this module holds only the flow.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from kofu.card.reader import PinError
from kofu.contracts.kiosk import PrintJob
from kofu.core.clock import clock_from_env
from kofu.core.errors import KofuError, Refused
from kofu.core.link import Link
from kofu.kiosk.client import KioskClient
from kofu.kiosk.i18n import DEFAULT, LANGUAGES, reason_key, words

__all__ = ["END_WAIT", "FEES", "IDLE_SECONDS", "create_kiosk_app"]

RESIDENCE_TYPES = ("juminhyo", "inkan", "kazei", "shotoku", "koseki-zenbu", "koseki-kojin", "fuhyo")
FAMILY_TYPES = ("koseki-zenbu", "koseki-kojin", "fuhyo")  # what a domicile city issues
TAX_TYPES = ("kazei", "shotoku")
STEPS = ("service", "notice", "card", "pin", "certificate", "copies", "confirm", "print")
MAX_COPIES = 10
# The machine's price list per copy (yen), as the store's operator loads it for the cities;
# the city's answer is the authority: a different fee voids the job uncharged (fee_changed).
FEES = {
    "juminhyo": 200,
    "inkan": 200,
    "kazei": 200,
    "shotoku": 200,
    "koseki-zenbu": 350,
    "koseki-kojin": 350,
    "fuhyo": 200,
}
IDLE_SECONDS = 60.0  # a visit untouched this long ends: card and session forgotten
END_WAIT = 3.0  # seconds a screen waits for the center to confirm a session's end

_TEMPLATES = Environment(
    loader=PackageLoader("kofu.kiosk", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Choice:
    """What the resident chose so far: the certificate, its options, the copies."""

    certificate: str | None = None
    household: str = "self"
    items: tuple[str, ...] = ()
    fiscal_year: int | None = None
    copies: int | None = None

    def options(self) -> dict[str, Any]:
        """The options as IssueOptions names them, only those that fit the certificate."""
        if self.certificate == "juminhyo":
            return {"household": self.household, "items": list(self.items)}
        if self.certificate in TAX_TYPES and self.fiscal_year is not None:
            return {"fiscal_year": self.fiscal_year}
        return {}


@dataclass
class Visit:
    """One resident at the machine, from the first touch to the end of the visit."""

    lang: str = DEFAULT
    route: str | None = None  # "residence" or "domicile"
    domicile_city: str | None = None
    domicile_name: str | None = None
    accepted: bool = False  # 注意事項
    card: Path | None = None
    session: str | None = None
    pin_error: tuple[str, dict[str, Any]] | None = None
    choice: Choice = field(default_factory=Choice)
    refusal: tuple[str, dict[str, Any]] | None = None
    registration: str | None = None
    printed: bool = False
    pdf: bytes | None = None
    seen: float = 0.0  # when the resident last touched the machine (monotonic seconds)

    def forget(self) -> None:
        """The visit is over: everything but the language goes (the card, the session…)."""
        fresh = Visit(lang=self.lang, seen=self.seen)
        self.__dict__.update(fresh.__dict__)


@dataclass(frozen=True)
class CardSlot:
    """A card the machine's reader can take, shown by what its holder sees on it."""

    card_id: str
    expires_on: str
    path: Path

    @property
    def tail(self) -> str:
        return self.card_id[-4:]

    @property
    def expiry(self) -> str:
        """The expiry date with non-breaking hyphens: a date split over two lines misreads."""
        return self.expires_on.replace("-", "\u2011")


def _cards_in(folder: Path) -> list[CardSlot]:
    """The cards in the reader: their public fields only (the file's sealed part stays shut)."""
    slots = []
    for path in sorted(folder.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            doc = json.loads(path.read_text(encoding="utf-8"))
            card_id, expires = doc.get("card_id"), doc.get("expires_on")
            if isinstance(card_id, str) and card_id:
                slots.append(CardSlot(card_id, expires if isinstance(expires, str) else "", path))
    return slots


def _fiscal_years(today: date) -> list[int]:
    """The three latest 年度 a tax certificate can be asked for (a year's opens in June)."""
    latest = today.year if today.month >= 6 else today.year - 1
    return [latest, latest - 1, latest - 2]


class _Ends:
    """Sessions to end at the center, sent one after another by a thread of their own.

    A daemon thread, so a center hanging on an end never holds the kiosk's
    process at exit either; each end is bounded by the link's own timeout.
    The thread starts with the first end in each process, so an app built
    before a fork still has one in the process that serves it.
    """

    def __init__(self, end: Callable[[str], None], wait: float) -> None:
        self._end, self._wait = end, wait
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[str, threading.Event]] = queue.Queue()
        self._thread: threading.Thread | None = None

    def end(self, session: str) -> bool:
        """Send the end; True once the center has answered, False after ``wait`` seconds."""
        answered = threading.Event()
        self._sender().put((session, answered))
        return answered.wait(self._wait)

    def _sender(self) -> queue.Queue[tuple[str, threading.Event]]:
        """The queue the sending thread reads, with the thread started if this process has none."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._queue = queue.Queue()  # a queue from before a fork is not this process's
                self._thread = threading.Thread(
                    target=self._run, args=(self._queue,), name="kiosk-session-ends", daemon=True
                )
                self._thread.start()
            return self._queue

    def _run(self, ends: queue.Queue[tuple[str, threading.Event]]) -> None:
        while True:
            session, answered = ends.get()
            with contextlib.suppress(Exception):  # the thread outlives any one end that fails
                self._end(session)
            answered.set()


def create_kiosk_app(
    *,
    center_url: str,
    cards: Path,
    master_key: bytes,
    client: Link,
    idle_seconds: float = IDLE_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
    today: Callable[[], date] | None = None,
    end_wait: float = END_WAIT,
) -> FastAPI:
    """The kiosk's pages; ``cards`` holds the card files the machine's reader can take."""
    app = FastAPI(title="kofu kiosk", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(packages=[("kofu.kiosk", "static")]), name="static")
    visits: dict[str, Visit] = {}
    lock = threading.Lock()
    center = KioskClient(center_url, client)
    today_ = today or clock_from_env(running=True).today
    ends = _Ends(center.end, end_wait)

    def end_session(session: str | None) -> None:
        """The center ends a session left unspent; the screen waits for it ``end_wait`` at most."""
        if session is not None:
            ends.end(session)

    def leave(v: Visit) -> None:
        """The visit is over: forgotten here, and its unspent session ended at the center."""
        session = v.session
        v.forget()
        end_session(session)

    def visit_of(request: Request) -> tuple[str, Visit]:
        token = request.cookies.get("visit") or secrets.token_urlsafe(16)
        now = monotonic()
        gone: list[Visit] = []
        with lock:
            if token not in visits:  # a new visit: forget those long over (cookies never back)
                for old in [t for t, o in visits.items() if now - o.seen > 2 * idle_seconds]:
                    gone.append(visits.pop(old))
            v = visits.setdefault(token, Visit(seen=now))
            idle = now - v.seen > idle_seconds
            v.seen = now
        for old_visit in gone:
            end_session(old_visit.session)
        if idle:
            leave(v)
        lang = request.query_params.get("lang")
        if lang in LANGUAGES:
            v.lang = lang
        return token, v

    def respond(token: str, page: Response) -> Response:
        page.set_cookie("visit", token, httponly=True, samesite="strict")
        page.headers["Cache-Control"] = "no-store"
        return page

    def go(token: str, path: str) -> Response:
        return respond(token, RedirectResponse(path, status_code=303))

    def screen(
        token: str,
        v: Visit,
        request: Request,
        name: str,
        heading: str,
        step: int = 0,
        back: str | None = None,
        cancel: bool = True,
        **context: Any,
    ) -> Response:
        say = words(v.lang)
        html = _TEMPLATES.get_template(f"{name}.html").render(
            _=say,
            lang=v.lang,
            languages=[(code, words(code)("language.self")) for code in LANGUAGES],
            path=request.url.path,
            screen=name,
            heading=say(heading),
            steps=STEPS,
            step=step,
            back=back,
            cancel=cancel,
            idle_ms=int(idle_seconds * 1000) if name != "start" else 0,
            **context,
        )
        return respond(token, HTMLResponse(html))

    def refuse(token: str, v: Visit, exc: KofuError) -> Response:
        """End the visit and show why, in the resident's language (re-rendered on a switch)."""
        values = {"tries": exc.tries_left} if isinstance(exc, PinError) else {}
        leave(v)
        v.refusal = (reason_key(exc), values)
        return go(token, "/refused")

    @app.get("/")
    def start(request: Request) -> Response:
        token, v = visit_of(request)
        leave(v)
        return screen(token, v, request, "start", "start.heading", cancel=False)

    @app.post("/cancel")
    def cancel(request: Request) -> Response:
        token, v = visit_of(request)
        leave(v)
        return go(token, "/")

    @app.get("/city")
    def city(request: Request) -> Response:
        token, v = visit_of(request)
        return screen(token, v, request, "city", "city.heading", 1, back="/")

    @app.post("/city")
    def city_chosen(request: Request, route: str = Form("")) -> Response:
        token, v = visit_of(request)
        if route not in ("residence", "domicile"):
            return go(token, "/city")
        v.route, v.domicile_city, v.domicile_name = route, None, None
        return go(token, "/notice" if route == "residence" else "/domicile")

    @app.get("/domicile")
    def domicile(request: Request) -> Response:
        token, v = visit_of(request)
        if v.route != "domicile":
            return go(token, "/")
        try:
            connected = center.cities()
        except KofuError as exc:
            return refuse(token, v, exc)
        return screen(
            token, v, request, "domicile", "domicile.heading", 1, back="/city", cities=connected
        )

    @app.post("/domicile")
    def domicile_chosen(request: Request, code: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.route != "domicile":
            return go(token, "/")
        try:
            chosen = [c for c in center.cities() if c.code == code]
        except KofuError as exc:
            return refuse(token, v, exc)
        if not chosen:
            return go(token, "/domicile")
        v.domicile_city, v.domicile_name = chosen[0].code, chosen[0].name
        return go(token, "/notice")

    @app.get("/notice")
    def notice(request: Request) -> Response:
        token, v = visit_of(request)
        if v.route is None or (v.route == "domicile" and v.domicile_city is None):
            return go(token, "/")
        back = "/domicile" if v.route == "domicile" else "/city"
        return screen(token, v, request, "notice", "notice.heading", 2, back=back)

    @app.post("/notice")
    def notice_accepted(request: Request) -> Response:
        token, v = visit_of(request)
        if v.route is None:
            return go(token, "/")
        v.accepted = True
        return go(token, "/card")

    @app.get("/card")
    def card(request: Request) -> Response:
        token, v = visit_of(request)
        if not v.accepted:
            return go(token, "/")
        end_session(v.session)  # back here: another card, the PIN again
        v.card = v.session = v.pin_error = None
        return screen(
            token, v, request, "card", "card.heading", 3, back="/notice", slots=_cards_in(cards)
        )

    @app.post("/card")
    def card_chosen(request: Request, card: str = Form("")) -> Response:
        token, v = visit_of(request)
        if not v.accepted:
            return go(token, "/")
        found = [s for s in _cards_in(cards) if s.card_id == card]
        if not found:
            return go(token, "/card")
        v.card, v.session, v.pin_error = found[0].path, None, None
        return go(token, "/pin")

    @app.get("/pin")
    def pin_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.card is None:
            return go(token, "/")
        end_session(v.session)  # back to the PIN: the card signs in again
        v.session = None
        error = words(v.lang)(v.pin_error[0], **v.pin_error[1]) if v.pin_error else None
        return screen(token, v, request, "pin", "pin.heading", 4, back="/card", error=error)

    @app.post("/pin")
    def pin_entered(request: Request, pin: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.card is None:
            return go(token, "/")
        if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
            v.pin_error = ("reason.pin_malformed", {})
            return go(token, "/pin")
        try:
            session = center.sign_in(v.card, master_key, pin)
        except PinError as exc:
            if exc.reason == "wrong_pin":  # stays on the PIN screen with the tries left
                v.pin_error = ("reason.wrong_pin", {"tries": exc.tries_left})
                return go(token, "/pin")
            return refuse(token, v, exc)
        except KofuError as exc:
            return refuse(token, v, exc)
        v.session, v.pin_error, v.choice = session, None, Choice()
        return go(token, "/type")

    @app.get("/type")
    def type_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None:
            return go(token, "/")
        offered = FAMILY_TYPES if v.route == "domicile" else RESIDENCE_TYPES
        return screen(
            token,
            v,
            request,
            "type",
            "type.heading",
            5,
            back="/pin",
            offered=offered,
            register=v.route == "domicile",
        )

    @app.post("/type")
    def type_chosen(request: Request, certificate: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.session is None:
            return go(token, "/")
        offered = FAMILY_TYPES if v.route == "domicile" else RESIDENCE_TYPES
        if certificate not in offered:
            return go(token, "/type")
        v.choice = Choice(certificate=certificate)
        if certificate == "juminhyo":
            return go(token, "/options")
        if certificate in TAX_TYPES:
            return go(token, "/year")
        return go(token, "/copies")

    @app.get("/options")
    def options_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate != "juminhyo":
            return go(token, "/")
        return screen(
            token, v, request, "options", "options.heading", 5, back="/type", choice=v.choice
        )

    @app.post("/options")
    def options_chosen(
        request: Request,
        household: str = Form("self"),
        head: str | None = Form(None),
        domicile: str | None = Form(None),
    ) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate != "juminhyo":
            return go(token, "/")
        v.choice.household = "all" if household == "all" else "self"
        v.choice.items = tuple(name for name, on in (("head", head), ("domicile", domicile)) if on)
        return go(token, "/copies")

    @app.get("/year")
    def year_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate not in TAX_TYPES:
            return go(token, "/")
        return screen(
            token,
            v,
            request,
            "year",
            "year.heading",
            5,
            back="/type",
            years=_fiscal_years(today_()),
        )

    @app.post("/year")
    def year_chosen(request: Request, year: int = Form(0)) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate not in TAX_TYPES:
            return go(token, "/")
        if year not in _fiscal_years(today_()):
            return go(token, "/year")
        v.choice.fiscal_year = year
        return go(token, "/copies")

    def before_copies(v: Visit) -> str:
        if v.choice.certificate == "juminhyo":
            return "/options"
        return "/year" if v.choice.certificate in TAX_TYPES else "/type"

    @app.get("/copies")
    def copies_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate is None:
            return go(token, "/")
        return screen(
            token,
            v,
            request,
            "copies",
            "copies.heading",
            6,
            back=before_copies(v),
            counts=range(1, MAX_COPIES + 1),
            chosen=v.choice.copies or 1,
        )

    @app.post("/copies")
    def copies_chosen(request: Request, copies: int = Form(0)) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.choice.certificate is None:
            return go(token, "/")
        if not 1 <= copies <= MAX_COPIES:
            return go(token, "/copies")
        v.choice.copies = copies
        return go(token, "/confirm")

    def ready(v: Visit) -> bool:
        c = v.choice
        return v.session is not None and c.certificate is not None and c.copies is not None

    def summary(v: Visit) -> list[str]:
        """The chosen options in the resident's language (summary.* entries)."""
        c, say = v.choice, words(v.lang)
        if c.certificate == "juminhyo":
            return [say(f"summary.{c.household}"), *(say(f"summary.{i}") for i in c.items)]
        if c.certificate in TAX_TYPES and c.fiscal_year is not None:
            return [say("year.option", year=c.fiscal_year, income=c.fiscal_year - 1)]
        return [say("summary.none")]

    @app.get("/confirm")
    def confirm_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if not ready(v):
            return go(token, "/")
        c = v.choice
        assert c.certificate is not None and c.copies is not None
        each = FEES[c.certificate]
        return screen(
            token,
            v,
            request,
            "confirm",
            "confirm.heading",
            7,
            back="/copies",
            choice=c,
            summary=summary(v),
            city=v.domicile_name,
            each=each,
            total=each * c.copies,
        )

    @app.post("/confirm")
    def confirmed(request: Request) -> Response:
        """The resident confirmed the fee: now (and only now) the center renders and we print."""
        token, v = visit_of(request)
        if not ready(v):
            return go(token, "/")
        c, session = v.choice, v.session
        assert c.certificate is not None and c.copies is not None and session is not None
        v.session = v.card = None  # the session is spent on this one request, whatever happens
        try:
            job = center.request(
                session,
                f"kiosk-{uuid.uuid4().hex[:20]}",
                c.certificate,
                c.options(),
                c.copies,
                store="web-0001",
                chain="kofu-web",
                domicile_city=v.domicile_city,
            )
        except KofuError as exc:
            return refuse(token, v, exc)
        if job.fee != FEES[c.certificate] * c.copies:
            return void(token, v, job)
        try:
            center.printed(job.request_id)
        except KofuError as exc:
            return refuse(token, v, exc)
        pdf = base64.b64decode(job.pdf_base64)
        v.forget()
        v.printed, v.pdf = True, pdf
        return go(token, "/done")

    def void(token: str, v: Visit, job: PrintJob) -> Response:
        """The city asks another fee than the resident agreed to: nothing printed, nothing paid."""
        with contextlib.suppress(KofuError):  # else the center's print timeout voids it
            center.voided(job.request_id, "fee_changed")
        return refuse(token, v, Refused("fee_changed", "the fee has changed"))

    @app.get("/done")
    def done(request: Request) -> Response:
        token, v = visit_of(request)
        if not v.printed:
            return go(token, "/")
        return screen(
            token, v, request, "done", "done.heading", 8, cancel=False, pdf=v.pdf is not None
        )

    @app.get("/printed.pdf")
    def printed(request: Request) -> Response:
        token, v = visit_of(request)
        if v.pdf is None:
            return go(token, "/")
        pdf, v.pdf = v.pdf, None  # printed once, then gone from the machine
        return respond(token, Response(pdf, media_type="application/pdf"))

    @app.get("/refused")
    def refused(request: Request) -> Response:
        token, v = visit_of(request)
        if v.refusal is None:
            return go(token, "/")
        key, values = v.refusal
        reason = words(v.lang)(key, **values)
        return screen(
            token,
            v,
            request,
            "refused",
            "refused.heading",
            cancel=False,
            reason=reason,
            code=key.removeprefix("reason."),
        )

    @app.get("/register")
    def register_screen(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.domicile_city is None:
            return go(token, "/")
        return screen(token, v, request, "register", "register.heading", 5, back="/type")

    @app.post("/register")
    def register(request: Request, domicile: str = Form(""), head: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.domicile_city is None:
            return go(token, "/")
        session, city = v.session, v.domicile_city
        v.session = v.card = None
        try:
            made = center.register_domicile(session, city, domicile, head)
        except KofuError as exc:
            return refuse(token, v, exc)
        v.forget()
        v.registration = made.registration_id
        return go(token, "/applied")

    @app.get("/applied")
    def applied(request: Request) -> Response:
        token, v = visit_of(request)
        if v.registration is None:
            return go(token, "/")
        return screen(
            token,
            v,
            request,
            "applied",
            "register.heading",
            cancel=False,
            registration=v.registration,
        )

    return app
