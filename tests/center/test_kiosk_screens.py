"""The kiosk's screens in a real headless Chromium: the flow by touch in Japanese, by keyboard
and numeric keypad in English, the screens and a refusal in the four other languages, the
end of a visit (print, 中止, a minute alone) and axe-core on every screen, in every language
it is shown in.  With KOFU_SCREENS=DIR each checked screen is also saved as PNG at 1024×768
and 1280×1024 (how docs/screens/ was made)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from kiosk_world import PIN, kiosk_world
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kofu.kiosk.i18n import LANGUAGES, words

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
AXE = Axe()
SCREENS = os.environ.get("KOFU_SCREENS")


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with kiosk_world(tmp_path_factory.mktemp("screens")) as world:
        yield world


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    yield context.new_page()
    context.close()


def _checked(page: Page, seen: list[str]) -> None:
    """axe-core finds nothing, every control is a target of 44 px at least, nothing runs off
    the side of the screen; with KOFU_SCREENS, PNGs of it at both sizes.

    A check box or radio button counts by its whole label, which takes the touch.
    """
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide, "the screen scrolls sideways"
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, a, input, label.opt')]
             .filter(e => e.offsetParent !== null)
             .filter(e => !(e.tagName === 'INPUT' && e.closest('label.opt')))
             .map(e => [e.id || e.textContent.trim(), e.getBoundingClientRect()])
             .filter(([, r]) => r.height < 44 || r.width < 44).map(([n]) => n)"""
    )
    assert small == [], small
    name = page.locator("body").get_attribute("data-screen") or ""
    seen.append(name)
    if SCREENS:
        lang = page.locator("html").get_attribute("lang")
        for width, height in ((1024, 768), (1280, 1024)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{SCREENS}/kiosk-{lang}-{name}-{width}x{height}.png")
        page.set_viewport_size({"width": 1024, "height": 768})


def _heading(page: Page, lang: str, key: str) -> None:
    assert page.inner_text("#heading") == words(lang)(key), key
    assert page.locator("html").get_attribute("lang") == lang


def test_a_resident_prints_by_touch_in_japanese(page: Page, kiosk: dict[str, Any]) -> None:
    seen: list[str] = []
    page.goto(kiosk["url"])
    _heading(page, "ja", "start.heading")
    _checked(page, seen)
    page.click("#services")
    _checked(page, seen)
    page.click("#residence")
    assert page.locator("[aria-current=step]").inner_text().endswith("注意事項")
    _checked(page, seen)
    page.click("#accept")
    assert "032051-1"[-4:] in page.inner_text("#card-1") and ".json" not in page.content()
    _checked(page, seen)
    page.click("#card-1")
    expect(page.locator("label[for=pin]")).to_have_count(1)  # waits for the PIN screen
    _checked(page, seen)
    for digit in PIN:
        page.click(f"button.key[data-key='{digit}']")
    page.click("#ok")
    _checked(page, seen)
    page.click("#type-kazei")  # a tax certificate asks for its year, nothing else
    expect(page.locator("#year-2026")).to_have_count(1)  # the year screen, once it is shown
    assert page.locator("#head").count() == 0
    _checked(page, seen)
    page.click("#back")
    page.click("#type-juminhyo")
    _checked(page, seen)
    page.check("#head")
    page.click("#next")
    _checked(page, seen)
    page.click("#copies-2")
    assert page.get_attribute("#fee", "data-yen") == "400"
    assert "世帯主・続柄" in page.inner_text("#options")
    _checked(page, seen)
    page.click("#pay")
    _heading(page, "ja", "done.heading")
    _checked(page, seen)
    assert seen == [
        "start", "city", "notice", "card", "pin", "type", "year", "options", "copies",
        "confirm", "done",
    ]  # fmt: skip
    pdf = page.request.get(kiosk["url"] + "/printed.pdf")
    assert pdf.body().startswith(b"%PDF")
    page.go_back()  # the fee screen again, from the browser's history: no second print
    page.goto(kiosk["url"] + "/confirm")
    _heading(page, "ja", "start.heading")


def _settled(page: Page) -> None:
    """The screen's ``autofocus`` applied (the browser does it a moment after loading)."""
    page.wait_for_function(
        "(() => { const a = document.querySelector('[autofocus]');"
        " return !a || document.activeElement === a; })()"
    )


def _go(page: Page, key: str, settle: bool = True) -> None:
    """A key that submits: on the screen's focused choice, then wait for the next screen.

    The browser applies ``autofocus`` a moment after the page has loaded, so
    the key waits for the focus to be on a control (a resident would see it).
    """
    if settle:
        _settled(page)
    with page.expect_navigation():
        page.keyboard.press(key)


def test_english_by_keyboard_and_numeric_keypad(page: Page, kiosk: dict[str, Any]) -> None:
    page.goto(kiosk["url"] + "/?lang=en")
    _heading(page, "en", "start.heading")
    _checked(page, [])
    _go(page, "Enter")  # the screen's first choice has the focus: one key per step
    _heading(page, "en", "city.heading")
    _checked(page, [])
    _go(page, "Enter")
    _go(page, "Enter")
    _settled(page)
    page.keyboard.press("Tab")  # past the first card, to the second: wrong PINs there
    _go(page, "Enter", settle=False)
    _heading(page, "en", "pin.heading")
    for key in ("Numpad0", "Numpad0", "Numpad0", "Numpad0"):
        page.keyboard.press(key)
    _go(page, "NumpadEnter")
    assert page.inner_text("#pin-error") == words("en")("reason.wrong_pin", tries=2)
    seen: list[str] = []
    _checked(page, seen)  # the PIN screen with its error
    page.click("#lang-vi")  # the language changes, the card and the tries stay
    assert page.inner_text("#pin-error") == words("vi")("reason.wrong_pin", tries=2)
    page.click("#lang-en")
    page.locator("#pin").focus()
    page.keyboard.press("Tab")  # off the field: the keypad still types
    for key in ("Numpad1", "Numpad2", "Numpad3", "Numpad4"):
        page.keyboard.press(key)
    _go(page, "NumpadEnter")
    _heading(page, "en", "type.heading")
    _checked(page, [])
    _go(page, "Enter")  # the first type: the residence certificate
    _heading(page, "en", "options.heading")
    _checked(page, [])
    _go(page, "Enter")  # its options as they are: only the holder, no extra items
    _heading(page, "en", "copies.heading")
    _checked(page, [])
    _go(page, "Enter")
    _heading(page, "en", "confirm.heading")
    _checked(page, [])
    page.click("#lang-zh")  # the switch on the fee screen keeps the job
    _heading(page, "zh", "confirm.heading")
    assert page.inner_text("#certificate") == words("zh")("type.juminhyo")
    assert page.inner_text("#options") == words("zh")("summary.self")
    page.click("#lang-en")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'pay'")
    _go(page, "Enter")
    _heading(page, "en", "done.heading")
    _checked(page, [])
    _go(page, "Enter")  # Finish
    _heading(page, "en", "start.heading")


OTHERS = [lang for lang in LANGUAGES if lang not in ("ja", "en")]


def _in_every_language(page: Page, key: str, also: dict[str, str] | None = None) -> None:
    """The screen switched to each of the other four languages in turn: its words follow."""
    for lang in OTHERS:
        page.click(f"#lang-{lang}")
        _heading(page, lang, key)
        for element, entry in (also or {}).items():
            assert page.inner_text(element) == words(lang)(entry), (lang, entry)
        _checked(page, [])  # longer words must still fit and read


def test_the_screens_and_a_refusal_in_the_four_other_languages(
    page: Page, kiosk: dict[str, Any]
) -> None:
    """One visit (the holder under an issuance block), every screen said in zh, ko, pt, vi."""
    page.goto(f"{kiosk['url']}/?lang=zh")
    _in_every_language(page, "start.heading", {"#services": "start.services"})
    page.click("#services")
    _in_every_language(page, "city.heading", {"#residence": "city.residence"})
    page.click("#residence")
    _in_every_language(page, "notice.heading", {"#accept": "notice.accept"})
    page.click("#accept")
    _in_every_language(page, "card.heading", {"#back": "back", "#cancel": "cancel"})
    page.click("#card-3")
    _in_every_language(page, "pin.heading", {"#prompt": "pin.label", "#ok": "pin.ok"})
    page.fill("#pin", PIN)
    _go(page, "Enter")
    _in_every_language(page, "type.heading", {"#type-inkan": "type.inkan"})
    page.click("#type-inkan")
    _in_every_language(page, "copies.heading", {"#back": "back"})
    page.click("#copies-1")
    _in_every_language(page, "confirm.heading", {"#certificate": "type.inkan"})
    page.click("#pay")
    _in_every_language(page, "refused.heading", {"#reason": "reason.issuance_blocked"})


def test_cancel_on_the_fee_screen_ends_the_visit(page: Page, kiosk: dict[str, Any]) -> None:
    page.goto(kiosk["url"])
    page.click("#services")
    page.click("#residence")
    page.click("#accept")
    page.click("#card-1")
    page.fill("#pin", PIN)
    page.click("#ok")
    page.click("#type-inkan")
    page.click("#copies-1")
    page.click("#cancel")
    _heading(page, "ja", "start.heading")
    for path in ("/confirm", "/copies", "/type", "/pin"):
        page.goto(kiosk["url"] + path)
        _heading(page, "ja", "start.heading")  # the card and the session are forgotten
    answer = page.request.post(kiosk["url"] + "/confirm")
    assert 'id="done"' not in answer.text()


def test_a_minute_without_a_touch_returns_to_the_start(page: Page, kiosk: dict[str, Any]) -> None:
    page.clock.install()
    page.goto(kiosk["url"])
    page.click("#services")
    page.click("#residence")
    page.click("#accept")
    page.click("#card-1")
    page.fill("#pin", PIN)
    page.click("#ok")
    _heading(page, "ja", "type.heading")
    page.clock.run_for(59_000)
    _heading(page, "ja", "type.heading")  # not yet
    page.clock.run_for(2_000)
    page.wait_for_url(kiosk["url"] + "/?idle=1")
    _heading(page, "ja", "start.heading")
    page.goto(kiosk["url"] + "/type")
    _heading(page, "ja", "start.heading")


def test_the_domicile_route_offers_family_documents_and_registration(
    page: Page, kiosk: dict[str, Any]
) -> None:
    seen: list[str] = []
    page.goto(kiosk["url"] + "/?lang=ko")
    page.click("#services")
    page.click("#domicile-city")
    _heading(page, "ko", "domicile.heading")
    _checked(page, seen)
    page.click(".city >> nth=0")
    page.click("#accept")
    page.click("#card-1")
    page.fill("#pin", PIN)
    page.click("#ok")
    expect(page.locator("#type-koseki-zenbu")).to_have_count(1)  # the type screen is shown
    assert page.locator("#type-juminhyo").count() == 0  # only what a domicile city issues
    page.click("#register")
    _heading(page, "ko", "register.heading")
    expect(page.locator("label[for=honseki]")).to_have_count(1)
    _checked(page, seen)
    assert seen == ["domicile", "register"]
