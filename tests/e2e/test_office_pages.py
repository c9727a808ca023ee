"""The city office's web app in a real headless Chromium: each role's work, refusals, attacks.

One browser for the module and one signed-in context per role, over HTTPS
with the network CA's certificate (the browser is told to accept the private
CA, as in the operator-page test).  axe-core checks every page a test opens.
With KOFU_SCREENS=DIR (or KOFU_OFFICE_SCREENS=DIR) each checked page is also
saved as PNG at 1024×768 and 1280×1024 (how docs/screens/ was made).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import Engine

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.domicile import DomicileRegistration
from kofu.city.services.card_desk import apply_for_card
from kofu.city.services.events import apply_events
from kofu.city.services.office import Auditor, SessionPolicy, add_staff, list_audit
from kofu.city.web.app import COOKIE, Office, create_office_app
from kofu.cli.wiring import LocalAuthority
from kofu.core.cardkey import card_master_key
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine
from kofu.core.network import network_identity
from kofu.core.settings import Settings
from services import in_thread, seeded_city_home

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
CODE = "112186"
START = datetime(2026, 11, 24, 9, 30, tzinfo=JST)  # a Tuesday
ROLES = ("clerk", "desk", "supervisor", "auditor", "planning")
SCREENS = os.environ.get("KOFU_SCREENS") or os.environ.get("KOFU_OFFICE_SCREENS")


@dataclass
class MovingClock:
    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()


@dataclass
class World:
    url: str
    engine: Engine
    clock: MovingClock
    office: Office
    plain: dict[str, Any]  # an adult resident
    protected: str  # a resident under a support measure
    application: str  # a card application whose card has arrived
    contexts: dict[str, BrowserContext]

    def audit(self) -> list[dict[str, Any]]:
        return list_audit(uow=OfficeUnitOfWork(self.engine, CODE), since=None)


def _password(role: str) -> str:
    return f"{role}-password-for-tests"[::-1]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def world(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("office")
    holder = seeded_city_home(home, CODE, START.date(), "feed01")  # has a card already
    engine = make_engine(f"sqlite:///{home / f'city_{CODE}.sqlite'}")
    clock = MovingClock(START)
    with CityUnitOfWork(engine, today=START.date()) as uow:
        adults = [
            p
            for p in uow.registers.residents(limit=60)
            if p.age_on(START.date()) >= 20 and p.resident_code != holder.resident_code
        ]
        plain, protected, applicant = adults[0], adults[1], adults[2]
    apply_events(
        uow=CityUnitOfWork(engine),
        events=[
            {
                "kind": "support_measure",
                "resident": protected.resident_code,
                "effective": "2026-11-01",
                "measure": "DV",
            }
        ],
        clock=FixedClock(START),
    )
    application = apply_for_card(  # 40 days ago: the card has arrived from J-LIS
        uow=CityUnitOfWork(engine),
        resident_code=applicant.resident_code,
        channel="counter",
        clock=FixedClock(START - timedelta(days=40)),
    )
    with CityUnitOfWork(engine) as uow:  # an 本籍地利用登録 waiting for a supervisor
        register = uow.registers.family_register(str(plain.family_register_id))
        assert register is not None
        uow.registers.save_domicile_registration(
            DomicileRegistration(
                registration_id="D000000042",
                auth_serial="abc42",
                register_id=register.register_id,
                member_name=plain.name,
                member_birth_date=plain.birth_date,
                applied_at=START - timedelta(days=1),
            )
        )
        uow.commit()
    for role in ROLES:
        add_staff(
            uow=OfficeUnitOfWork(engine, CODE),
            user=role,
            role=role,
            password=_password(role),
            clock=clock,
        )
    settings = Settings(home=home, database_url=None, schema_prefix="")
    office = Office(
        engine=engine,
        city=CODE,
        city_name="埼玉県深谷市",
        clock=clock,
        policy=SessionPolicy(),
        auditor=Auditor(lambda: OfficeUnitOfWork(engine, CODE), clock, home / "audit.head"),
        authority=LocalAuthority(settings, "http://127.0.0.1:9", clock),
        master_key=card_master_key(settings),
        cards=home / "cards",
    )
    identity = network_identity(home, f"office-{CODE}", "lgwan")
    with in_thread(create_office_app(office), identity, client_certificates=False) as url:
        yield World(
            url=url,
            engine=engine,
            clock=clock,
            office=office,
            plain=plain.model_dump(mode="json"),
            protected=protected.resident_code,
            application=application.application_id,
            contexts={},
        )
        for context in browser.contexts:  # before the server stops: no connection left open
            context.close()
    engine.dispose()


def _context(browser: Browser) -> BrowserContext:
    return browser.new_context(
        ignore_https_errors=True,  # the private network CA is not in the browser's store
        viewport={"width": 1280, "height": 1024},
        locale="ja-JP",
    )


def checked(page: Page, name: str) -> None:
    """axe-core finds nothing; nothing runs off the side at 1024 px; with KOFU_SCREENS, PNGs."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    for width, height in ((1024, 768), (1280, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"{name} scrolls sideways at {width} px"
        if SCREENS:
            path = f"{SCREENS}/office-{name}-{width}x{height}.png"
            page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 1024})


def sign_in(page: Page, url: str, user: str, password: str) -> None:
    page.goto(url + "/login")
    page.fill("#user", user)
    page.fill("#password", password)
    page.click("#sign-in")


def staff(browser: Browser, world: World, role: str) -> Page:
    """A signed-in page of ``role`` (one context per role for the module)."""
    if role not in world.contexts:
        context = _context(browser)
        page = context.new_page()
        sign_in(page, world.url, role, _password(role))
        assert "サインアウト" in page.inner_text("header")
        world.contexts[role] = context
    return world.contexts[role].pages[0]


def _csrf(page: Page) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.content())
    assert found is not None
    return found[1]


def test_a_clerk_finds_opens_reveals_issues_and_reprints(browser: Browser, world: World) -> None:
    context = _context(browser)
    page = context.new_page()
    page.goto(world.url + "/login")
    checked(page, "login")
    page.fill("#user", "clerk")
    page.fill("#password", _password("clerk"))
    page.click("#sign-in")
    checked(page, "home")
    world.contexts["clerk"] = context
    person = world.plain
    page.goto(world.url + "/residents")
    page.fill("#kana", person["kana"].split("　")[0])
    page.fill("#birth", person["birth_date"])
    page.click("#search")
    checked(page, "search")
    page.click(f"a[href='/residents/{person['resident_code']}']")
    assert page.inner_text("#number") != person["individual_number"]
    assert page.inner_text("#number").endswith(person["individual_number"][-4:])
    checked(page, "record")
    page.select_option("#purpose-reveal", "identity_check")
    page.click("#reveal")
    assert page.inner_text("#number") == person["individual_number"]
    looked = world.audit()[-1]
    assert (looked["staff"], looked["action"], looked["resident"], looked["purpose"]) == (
        "clerk",
        "reveal_number",
        person["resident_code"],
        "identity_check",
    )
    page.click("#to-issue")
    checked(page, "issue")
    page.check("#type-juminhyo")
    page.check("#item-head")
    page.fill("#copies", "2")
    page.check("#paid")
    page.click("#issue")
    checked(page, "issued")
    assert page.inner_text("#fee") == "600"
    first = [int(n) for n in page.locator("#numbers .number").all_inner_texts()]
    assert len(set(first)) == 2
    pdf = page.request.get(f"{world.url}/issued/{first[0]}.pdf")
    assert pdf.body().startswith(b"%PDF")
    page.check("#reprint-paid")  # a reprint is a new issuance: its fee is taken again
    page.click("#reprint")
    again = [int(n) for n in page.locator("#numbers .number").all_inner_texts()]
    assert min(again) > max(first)  # a reprint is a new issuance with new numbers
    issued = [r for r in world.audit() if r["action"] == "issue_certificate"]
    assert [r["detail"]["issue_number"] for r in issued] == first + again


def test_a_register_change_is_previewed_then_applied_all_or_none(
    browser: Browser, world: World
) -> None:
    page = staff(browser, world, "clerk")
    code = world.plain["resident_code"]
    page.goto(f"{world.url}/events?kind=name_change&resident={code}")
    checked(page, "events")
    page.fill("#f-effective", "2026-11-20")
    page.fill("#f-name", "試験　花子")
    page.fill("#f-kana", "シケン　ハナコ")
    page.click("#preview")
    checked(page, "preview")
    assert "試験　花子" in page.inner_text("#changes")
    with CityUnitOfWork(world.engine) as uow:
        person = uow.registers.resident(code)
        assert person is not None and person.name == world.plain["name"]  # nothing yet
    page.click("#apply")
    assert "適用しました" in page.inner_text("h1")
    with CityUnitOfWork(world.engine) as uow:
        person = uow.registers.resident(code)
        assert person is not None and person.name == "試験　花子"
    world.plain["name"] = person.name


def test_a_protected_record_asks_a_purpose_warns_and_refuses_issuance(
    browser: Browser, world: World
) -> None:
    page = staff(browser, world, "clerk")
    page.goto(f"{world.url}/residents/{world.protected}")
    assert "支援措置対象者" in page.inner_text("#banner")
    assert page.locator("#number").count() == 0  # nothing of the record before a purpose
    checked(page, "protected")
    page.select_option("#purpose-open", "certificate")
    page.click("#open")
    assert "支援措置対象者" in page.inner_text("#banner")
    assert page.locator("#to-issue").count() == 0
    assert world.audit()[-1]["action"] == "open_protected"
    answer = page.goto(f"{world.url}/residents/{world.protected}/issue")
    assert answer is not None and answer.status == 403
    assert page.inner_text("#reason") == "support_measure"
    checked(page, "refused")


def test_each_role_sees_only_its_desks(browser: Browser, world: World) -> None:
    clerk = staff(browser, world, "clerk")
    answer = clerk.goto(world.url + "/audit")
    assert answer is not None and answer.status == 403
    assert clerk.inner_text("#reason") == "caller_not_allowed"
    auditor = staff(browser, world, "auditor")
    answer = auditor.goto(f"{world.url}/residents/{world.plain['resident_code']}")
    assert answer is not None and answer.status == 403
    auditor.goto(world.url + "/audit")
    assert "改ざん・削除なし" in auditor.inner_text("#verify")
    assert "reveal_number" in auditor.inner_text("#trail")
    checked(auditor, "audit")
    planning = staff(browser, world, "planning")
    planning.goto(world.url + "/planning")
    checked(planning, "planning")
    assert planning.goto(world.url + "/residents").status == 403  # type: ignore[union-attr]
    supervisor = staff(browser, world, "supervisor")
    supervisor.goto(world.url + "/supervisor")
    assert "D000000042" in supervisor.inner_text("#pending")
    checked(supervisor, "supervisor")
    supervisor.click("#pending button[value='approve']")
    assert "D000000042: approved" in supervisor.inner_text("#done")
    assert supervisor.goto(world.url + "/audit").status == 403  # type: ignore[union-attr]


def test_the_card_desk_notifies_books_hands_over_and_a_supervisor_resets_the_pin(
    browser: Browser, world: World
) -> None:
    page = staff(browser, world, "desk")
    page.goto(world.url + "/cards")
    page.click("#notices")
    assert "1 件" in page.inner_text("#done")
    page.fill("#slot-start", "2026-11-26T10:00")
    page.click("#add-slot")
    slot = page.inner_text("#done").split("Slot ")[1].strip()
    page.fill("#book-application", world.application)
    page.select_option("#book-slot", slot)
    page.click("#book")
    assert "Booked" in page.inner_text("#done")
    page.fill("#handover-application", world.application)
    page.fill("#handover-pin", "4321")
    page.fill("#handover-password", "PASS2026")
    page.check("#handover-doc-driving_licence")
    page.click("#handover")
    done = page.inner_text("#done")
    card_id = done.split("Card ")[1].split()[0]
    checked(page, "cards")
    page.fill("#lost-card", card_id)
    page.click("#lost")
    assert "suspended" in page.inner_text("#done")
    page.fill("#found-card", card_id)
    page.click("#found")
    assert "active again" in page.inner_text("#done")
    page.select_option("#renew-card", f"{world.application}.json")  # revoked when lost: renew
    page.fill("#renew-pin", "4321")
    page.fill("#renew-password", "PASS2026")
    page.check("input[name='force']")
    page.check("#renew-doc-health_insurance")
    page.check("#renew-doc-pension_book")
    page.click("#renew")
    assert f"Certificates renewed on {card_id}" in page.inner_text("#done")
    assert page.locator("#reset-pin").count() == 0  # the desk does not reset PINs
    supervisor = staff(browser, world, "supervisor")
    supervisor.goto(world.url + "/cards")
    supervisor.select_option("#reset-card", f"{world.application}.json")
    supervisor.fill("#reset-value", "9876")
    supervisor.check("#reset-doc-passport")
    supervisor.click("#reset-pin")
    assert "PIN reset" in supervisor.inner_text("#done")
    actions = [r["action"] for r in world.audit()]
    assert {"card_handover", "card_lost", "card_found", "card_renew", "card_reset-pin"} <= set(
        actions
    )


def test_attacks_forged_csrf_a_clerks_cookie_and_a_planted_session(
    browser: Browser, world: World
) -> None:
    clerk = staff(browser, world, "clerk")
    clerk.goto(world.url + "/")
    before = len(world.audit())
    code = world.plain["resident_code"]
    forged = clerk.request.post(
        f"{world.url}/residents/{code}/reveal",
        form={"csrf": "forged-token", "purpose": "identity_check"},
    )
    assert forged.status == 403 and "csrf_failed" in forged.text()
    assert world.plain["individual_number"] not in forged.text()
    assert len(world.audit()) == before  # nothing was shown, nothing recorded
    token = _csrf(clerk)
    escalated = clerk.request.post(
        world.url + "/cards/reset-pin",
        form={
            "csrf": token,
            "card": f"{world.application}.json",
            "kind": "auth",
            "new_value": "1111",
            "documents": "passport",
        },
    )
    assert escalated.status == 403 and "caller_not_allowed" in escalated.text()
    blocked = clerk.request.post(
        world.url + "/events/apply",
        form={
            "csrf": token,
            "batch": f'{{"kind": "issuance_block", "resident": "{code}", '
            '"effective": "2026-11-24", "reason": "x"}',
        },
    )
    assert blocked.status == 403
    with CityUnitOfWork(world.engine) as uow:
        assert uow.registers.issuance_blocks(code) == []

    context = _context(browser)  # session fixation: a cookie chosen by the attacker
    planted = "attacker-chosen-session-value"
    context.add_cookies([{"name": COOKIE, "value": planted, "url": world.url + "/"}])
    page = context.new_page()
    page.goto(world.url + "/")
    assert page.url.endswith("/login?expired=1")
    sign_in(page, world.url, "planning", _password("planning"))
    cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
    assert cookie["value"] != planted
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    context.close()


def test_lock_out_after_five_wrong_passwords_and_session_expiry(
    browser: Browser, world: World
) -> None:
    context = _context(browser)
    page = context.new_page()
    for n in range(5):
        sign_in(page, world.url, "auditor", f"wrong password {n}")
        assert "違います" in page.inner_text("#error")
    sign_in(page, world.url, "auditor", _password("auditor"))
    assert "ロック" in page.inner_text("#error")
    checked(page, "locked")
    context.close()
    clerk = staff(browser, world, "clerk")
    world.clock.instant += timedelta(minutes=16)  # idle longer than a session may be
    clerk.goto(world.url + "/residents")
    assert clerk.url.endswith("/login?expired=1")
    assert "セッションが終了" in clerk.inner_text("main")
