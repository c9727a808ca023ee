"""The kiosk page in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def _to_pin(page: Page, system: dict[str, Any], card: str) -> None:
    page.goto(system["kiosk"])
    page.click("#services")
    page.click("#residence")
    page.click(f"a.card:has-text('{card}')")


def _type_pin(page: Page, pin: str) -> None:
    for digit in pin:
        page.click(f"button.key[data-k='{digit}']")
    page.click("#ok")


def test_a_resident_prints_at_the_kiosk(page: Page, system: dict[str, Any]) -> None:
    _to_pin(page, system, "resident")
    assert "暗証番号" in page.inner_text("#prompt")
    _type_pin(page, "1234")
    page.check("#type-juminhyo")
    page.fill("#copies", "2")
    page.click("#next")
    assert page.inner_text("#fee") == "400"
    page.click("#pay")
    assert "取りください" in page.inner_text("#done")
    response = page.request.get(system["kiosk"].rstrip("/") + "/printed.pdf")
    assert response.body().startswith(b"%PDF")
    again = page.request.get(system["kiosk"].rstrip("/") + "/printed.pdf")
    assert not again.body().startswith(b"%PDF")  # the machine keeps no copy after printing


def test_after_printing_the_choice_screen_prints_nothing(
    page: Page, system: dict[str, Any]
) -> None:
    """次へ then お支払いのうえ印刷 again, without the card and the PIN, must not print."""
    _to_pin(page, system, "resident")
    _type_pin(page, "1234")
    page.click("#next")
    page.click("#pay")
    assert "取りください" in page.inner_text("#done")
    page.goto(system["kiosk"].rstrip("/") + "/choose")
    assert page.locator("#next").count() == 0 and page.locator("#services").count() == 1
    again = page.request.post(
        system["kiosk"].rstrip("/") + "/request", form={"type": "juminhyo", "copies": "1"}
    )
    assert 'id="fee"' not in again.text() and 'id="pay"' not in again.text()


def test_cancel_at_the_fee_ends_the_visit(page: Page, system: dict[str, Any]) -> None:
    _to_pin(page, system, "resident")
    _type_pin(page, "1234")
    page.click("#next")
    page.click("#cancel")
    assert page.locator("#services").count() == 1
    page.goto(system["kiosk"].rstrip("/") + "/choose")
    assert page.locator("#next").count() == 0


def test_english_switch(page: Page, system: dict[str, Any]) -> None:
    page.goto(system["kiosk"])
    page.click("#lang")
    assert page.inner_text("#services") == "Administrative services"


def test_a_wrong_pin_then_a_locked_card(page: Page, system: dict[str, Any]) -> None:
    for tries_left in (2, 1):
        _to_pin(page, system, "spare")
        _type_pin(page, "0000")
        assert f"あと{tries_left}回" in page.inner_text("#reason")
    _to_pin(page, system, "spare")
    _type_pin(page, "0000")
    assert "ロック" in page.inner_text("#reason")
    _to_pin(page, system, "spare")
    _type_pin(page, "1234")  # the right PIN does not open a locked card
    assert "ロック" in page.inner_text("#reason")


def test_a_refusal_in_words(page: Page, system: dict[str, Any]) -> None:
    _to_pin(page, system, "blocked")
    _type_pin(page, "1234")
    page.check("#type-juminhyo")
    page.click("#next")
    assert "発行が停止" in page.inner_text("#reason")
    assert page.locator("#fee").count() == 0
