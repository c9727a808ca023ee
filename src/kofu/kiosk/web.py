"""The kiosk page: the store's multi-copy machine, server-rendered, Japanese with an English switch.

The flow a resident follows at a real store: administrative services →
residence city or domicile city (本籍地) → insert the card → the PIN on an
on-screen keypad (checked by the card) → the certificate and the options a
store offers → copies → the fee → print → done.  For the domicile city the
machine offers the family-register documents and the one-time 本籍地利用登録
they need.  Every refusal is shown in words a resident understands.  The
page talks to the issuance center over mutual TLS, as the machine does.

A visit ends with the print, with やめる (cancel) and after a while without
a touch: the session is dropped and an unprinted job voided, so the next
person at the machine starts from the card and the PIN.  (The center
spends a session on one request anyway.)
"""

from __future__ import annotations

import base64
import contextlib
import html
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kofu.contracts.kiosk import PrintJob
from kofu.core.errors import KofuError
from kofu.core.link import Link
from kofu.kiosk.client import KioskClient

__all__ = ["create_kiosk_app"]

TYPES = {
    "juminhyo": ("住民票の写し", "Residence certificate"),
    "inkan": ("印鑑登録証明書", "Seal registration certificate"),
    "kazei": ("課税証明書", "Tax certificate"),
    "shotoku": ("所得証明書", "Income certificate"),
    "koseki-zenbu": ("戸籍全部事項証明書", "Family register (all)"),
    "koseki-kojin": ("戸籍個人事項証明書", "Family register (individual)"),
    "fuhyo": ("戸籍の附票の写し", "Family register attachment"),
}

FAMILY = ("koseki-zenbu", "koseki-kojin", "fuhyo")  # what a domicile city issues

TEXT = {
    "title": ("マルチコピー機", "Multi-copy machine"),
    "services": ("行政サービス", "Administrative services"),
    "residence": ("お住まいの市区町村の証明書", "Certificates of your city of residence"),
    "domicile_city": ("本籍地の市区町村の証明書", "Certificates of your domicile city"),
    "which_city": ("本籍地の市区町村を選んでください", "Choose your domicile city"),
    "register": ("本籍地利用登録をする", "Register for your domicile city's documents"),
    "register_title": (
        "本籍地利用登録（本籍と筆頭者を入力してください）",
        "Domicile registration (enter your domicile and the head of the register)",
    ),
    "honseki": ("本籍", "Domicile (本籍)"),
    "hittosha": ("筆頭者氏名", "Head of the register (筆頭者)"),
    "apply": ("申請する", "Apply"),
    "applied": (
        "本籍地利用登録を受け付けました。市区町村の審査が終わるとご利用いただけます。",
        "Your registration was received; you can use it once the city has approved it.",
    ),
    "card": ("マイナンバーカードを置いてください", "Place your My Number card"),
    "pin": (
        "利用者証明用電子証明書の暗証番号（数字4桁）を入力してください",
        "Enter your 4-digit PIN",
    ),
    "clear": ("訂正", "Clear"),
    "ok": ("確定", "OK"),
    "choose": ("証明書を選んでください", "Choose a certificate"),
    "copies": ("部数", "Copies"),
    "head": ("世帯主・続柄を記載する", "Include household head and relationship"),
    "domicile": ("本籍・筆頭者を記載する", "Include domicile and head of family register"),
    "whole": ("世帯全員", "Whole household"),
    "next": ("次へ", "Next"),
    "fee": ("手数料", "Fee"),
    "pay": ("お支払いのうえ印刷", "Pay and print"),
    "done": (
        "印刷が終わりました。カードと証明書をお取りください。",
        "Printed. Take your card and certificate.",
    ),
    "refused": ("お取り扱いできません", "This cannot be issued"),
    "again": ("最初に戻る", "Start again"),
    "cancel": ("やめる", "Cancel"),
}

IDLE_SECONDS = 120.0  # a visit untouched this long ends: session dropped, unprinted job voided


@dataclass
class Visit:
    """One resident at the machine: the chosen card, the center session, the print job."""

    lang: int = 0
    card: str | None = None
    session: str | None = None
    job: PrintJob | None = None
    pdf: bytes | None = None
    domicile_city: str | None = None  # None: the city of residence
    extra: dict[str, Any] = field(default_factory=dict)
    seen: float = 0.0  # when the resident last touched the machine (monotonic seconds)


def _page(visit: Visit, body: str) -> HTMLResponse:
    lang = "ja" if visit.lang == 0 else "en"
    switch = (
        '<a id="lang" href="/lang">English</a>'
        if visit.lang == 0
        else '<a id="lang" href="/lang">日本語</a>'
    )
    return HTMLResponse(
        f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{TEXT["title"][visit.lang]}</title>
<style>body{{font-family:sans-serif;max-width:40em;margin:2em auto}}
button{{font-size:1.4em;margin:.2em;min-width:3em}} .error{{color:#b00}}
.keypad button{{width:4em;height:3em}}</style></head>
<body><header><h1>{TEXT["title"][visit.lang]}</h1>{switch}</header><main>{body}</main></body></html>"""
    )


def create_kiosk_app(
    *,
    center_url: str,
    cards: Path,
    master_key: bytes,
    client: Link,
    idle_seconds: float = IDLE_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
) -> FastAPI:
    """The kiosk's pages; ``cards`` holds the demo card files the machine can read."""
    app = FastAPI(title="kofu kiosk")
    visits: dict[str, Visit] = {}
    lock = threading.Lock()
    center = KioskClient(center_url, client)

    def end(v: Visit, why: str) -> None:
        """The visit is over: an unprinted job is voided (uncharged), the session forgotten."""
        job, v.job, v.session, v.card = v.job, None, None, None
        if job is not None:
            v.pdf = None
            with contextlib.suppress(KofuError):  # else the center's print timeout voids it
                center.voided(job.request_id, why)

    def visit_of(request: Request) -> tuple[str, Visit]:
        token = request.cookies.get("visit") or secrets.token_urlsafe(12)
        now = monotonic()
        with lock:
            v = visits.setdefault(token, Visit(seen=now))
            idle = now - v.seen > idle_seconds
            v.seen = now
        if idle:
            end(v, "kiosk idle")
            v.pdf = v.domicile_city = None
        return token, v

    def respond(token: str, page: HTMLResponse | RedirectResponse) -> Response:
        page.set_cookie("visit", token, httponly=True, samesite="strict")
        return page

    def t(v: Visit, key: str) -> str:
        return TEXT[key][v.lang]

    def cancel_button(v: Visit) -> str:
        return (
            f'<form method="post" action="/cancel"><button id="cancel">{t(v, "cancel")}'
            "</button></form>"
        )

    def words(exc: KofuError) -> str:
        return getattr(exc, "message_ja", None) or exc.message

    def refuse(token: str, v: Visit, message: str) -> Response:
        end(v, "refused")
        v.pdf = None
        body = (
            f'<h2>{t(v, "refused")}</h2><p class="error" id="reason">{html.escape(message)}</p>'
            f'<a href="/" id="again">{t(v, "again")}</a>'
        )
        return respond(token, _page(v, body))

    @app.get("/")
    def start(request: Request) -> Response:
        token, v = visit_of(request)
        end(v, "cancelled: back to the start")
        v.pdf = v.domicile_city = None
        return respond(
            token,
            _page(v, f'<a href="/city"><button id="services">{t(v, "services")}</button></a>'),
        )

    @app.get("/lang")
    def switch_lang(request: Request) -> Response:
        token, v = visit_of(request)
        v.lang = 1 - v.lang
        return respond(
            token, RedirectResponse(request.headers.get("referer") or "/", status_code=303)
        )

    @app.get("/city")
    def city(request: Request) -> Response:
        token, v = visit_of(request)
        v.domicile_city = None
        body = (
            f'<a href="/card"><button id="residence">{t(v, "residence")}</button></a><br>'
            f'<a href="/domicile"><button id="domicile-city">{t(v, "domicile_city")}'
            "</button></a>"
        )
        return respond(token, _page(v, body))

    @app.get("/domicile")
    def domicile_city(request: Request, code: str | None = None) -> Response:
        token, v = visit_of(request)
        try:
            connected = center.cities()
        except KofuError as exc:
            return refuse(token, v, words(exc))
        if code is not None and any(c.code == code for c in connected):
            v.domicile_city = code
            return respond(token, RedirectResponse("/card", status_code=303))
        buttons = "".join(
            f'<a href="/domicile?code={html.escape(c.code)}"><button class="city" '
            f'id="city-{html.escape(c.code)}">{html.escape(c.name)}</button></a><br>'
            for c in connected
        )
        return respond(token, _page(v, f"<h2>{t(v, 'which_city')}</h2>{buttons}"))

    @app.get("/card")
    def card(request: Request) -> Response:
        token, v = visit_of(request)
        items = "".join(
            f'<li><a class="card" href="/pin?card={html.escape(p.name)}">'
            f"{html.escape(p.stem)}</a></li>"
            for p in sorted(cards.glob("*.json"))
        )
        return respond(token, _page(v, f"<h2>{t(v, 'card')}</h2><ul>{items}</ul>"))

    @app.get("/pin")
    def pin_page(request: Request, card: str) -> Response:
        token, v = visit_of(request)
        if "/" in card or not (cards / card).exists():
            return refuse(token, v, "カードを読み取れません。")
        v.card = card
        keys = "".join(
            f'<button type="button" class="key" data-k="{d}">{d}</button>' for d in "1234567890"
        )
        body = f"""<h2 id="prompt">{t(v, "pin")}</h2>
<form method="post" action="/pin" id="pinform"><input type="password" name="pin" id="pin" readonly
 maxlength="4" size="6"><div class="keypad">{keys}
<button type="button" id="clear">{t(v, "clear")}</button>
<button type="submit" id="ok">{t(v, "ok")}</button>
</div></form>
<script>
const pin=document.getElementById('pin');
document.querySelectorAll('.key').forEach(b=>b.onclick=()=>{{if(pin.value.length<4)pin.value+=b.dataset.k;}});
document.getElementById('clear').onclick=()=>{{pin.value='';}};
</script>"""
        return respond(token, _page(v, body))

    @app.post("/pin")
    def pin_entered(request: Request, pin: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.card is None:
            return respond(token, RedirectResponse("/", status_code=303))
        try:
            v.session = center.sign_in(cards / v.card, master_key, pin)
        except KofuError as exc:
            return refuse(token, v, words(exc))
        return respond(token, RedirectResponse("/choose", status_code=303))

    @app.post("/cancel")
    def cancel(request: Request) -> Response:
        token, v = visit_of(request)
        end(v, "cancelled by the resident")
        v.pdf = v.domicile_city = None
        return respond(token, RedirectResponse("/", status_code=303))

    @app.get("/choose")
    def choose(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None:  # no card signed in for this visit (or it ended)
            return respond(token, RedirectResponse("/", status_code=303))
        offered = {k: n for k, n in TYPES.items() if v.domicile_city is None or k in FAMILY}
        first = next(iter(offered))
        options = "".join(
            f'<label><input type="radio" name="type" value="{k}" id="type-{k}"'
            f"{' checked' if k == first else ''}>{names[v.lang]}</label><br>"
            for k, names in offered.items()
        )
        register = (
            f'<p><a href="/register" id="register">{t(v, "register")}</a></p>'
            if v.domicile_city
            else ""
        )
        body = f"""<h2>{t(v, "choose")}</h2>{register}
<form method="post" action="/request">{options}
<label><input type="checkbox" name="whole" id="whole">{t(v, "whole")}</label><br>
<label><input type="checkbox" name="head" id="head">{t(v, "head")}</label><br>
<label><input type="checkbox" name="domicile" id="domicile">{t(v, "domicile")}</label><br>
<label>{t(v, "copies")}
<input type="number" name="copies" id="copies" value="1" min="1" max="10"></label><br>
<button type="submit" id="next">{t(v, "next")}</button></form>{cancel_button(v)}"""
        return respond(token, _page(v, body))

    @app.post("/request")
    def request_issuance(
        request: Request,
        type: str = Form("juminhyo"),
        copies: int = Form(1),
        whole: str | None = Form(None),
        head: str | None = Form(None),
        domicile: str | None = Form(None),
    ) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.job is not None:
            return respond(token, RedirectResponse("/", status_code=303))
        items = [name for name, on in (("head", head), ("domicile", domicile)) if on]
        options: dict[str, Any] = {"items": items}
        if whole:
            options["household"] = "all"
        request_id = f"kiosk-{uuid.uuid4().hex[:20]}"
        try:
            job = center.request(
                v.session,
                request_id,
                type,
                options,
                copies,
                store="web-0001",
                chain="kofu-web",
                domicile_city=v.domicile_city,
            )
        except KofuError as exc:
            return refuse(token, v, words(exc))
        v.job, v.pdf = job, base64.b64decode(job.pdf_base64)
        name = TYPES.get(type, (type, type))[v.lang]
        body = (
            f"<h2>{html.escape(name)} × {job.copies}</h2>"
            f'<p>{t(v, "fee")}: <span id="fee">{job.fee}</span> 円</p>'
            f'<form method="post" action="/print"><button id="pay">{t(v, "pay")}</button></form>'
            f"{cancel_button(v)}"
        )
        return respond(token, _page(v, body))

    @app.get("/register")
    def register_form(request: Request) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.domicile_city is None:
            return respond(token, RedirectResponse("/", status_code=303))
        body = f"""<h2>{t(v, "register_title")}</h2><form method="post" action="/register">
<label>{t(v, "honseki")} <input name="domicile" id="honseki" size="40"></label><br>
<label>{t(v, "hittosha")} <input name="head" id="hittosha" size="20"></label><br>
<button type="submit" id="apply">{t(v, "apply")}</button></form>"""
        return respond(token, _page(v, body))

    @app.post("/register")
    def register(request: Request, domicile: str = Form(""), head: str = Form("")) -> Response:
        token, v = visit_of(request)
        if v.session is None or v.domicile_city is None:
            return respond(token, RedirectResponse("/", status_code=303))
        try:
            made = center.register_domicile(v.session, v.domicile_city, domicile, head)
        except KofuError as exc:
            return refuse(token, v, words(exc))
        v.session = None
        body = (
            f'<h2 id="applied">{t(v, "applied")}</h2>'
            f'<p id="registration">{html.escape(made.registration_id)}</p>'
            f'<a href="/" id="again">{t(v, "again")}</a>'
        )
        return respond(token, _page(v, body))

    @app.post("/print")
    def print_job(request: Request) -> Response:
        token, v = visit_of(request)
        if v.job is None or v.pdf is None:
            return respond(token, RedirectResponse("/", status_code=303))
        job, v.job, v.session, v.card = v.job, None, None, None  # the visit ends with its print
        try:
            center.printed(job.request_id)
        except KofuError as exc:
            return refuse(token, v, words(exc))
        body = (
            f'<h2 id="done">{t(v, "done")}</h2><a id="pdf" href="/printed.pdf">PDF</a>'
            f'<br><a href="/" id="again">{t(v, "again")}</a>'
        )
        return respond(token, _page(v, body))

    @app.get("/printed.pdf")
    def printed(request: Request) -> Response:
        token, v = visit_of(request)
        if v.pdf is None:
            return respond(token, RedirectResponse("/", status_code=303))
        pdf, v.pdf = v.pdf, None  # printed once, then gone from the machine
        return Response(pdf, media_type="application/pdf")

    return app
