"""The kiosk page in a real headless Chromium (Debian's package, driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

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


def _signed_in(page: Page, system: dict[str, Any], card: int, pin: str = "1234") -> None:
    """Start → residence → 注意事項 → the card (by its position: resident, spare, blocked) → PIN."""
    page.goto(system["kiosk"])
    page.click("#services")
    page.click("#residence")
    page.click("#accept")
    page.click(f"#card-{card}")
    page.fill("#pin", pin)
    page.click("#ok")


def test_a_resident_prints_at_the_served_kiosk(page: Page, system: dict[str, Any]) -> None:
    """`kofu serve kiosk` before the real center, city and jpki processes: one print, once."""
    _signed_in(page, system, 2)
    page.click("#type-juminhyo")
    page.click("#next")
    page.click("#copies-2")
    assert page.get_attribute("#fee", "data-yen") == "400"
    page.click("#pay")
    expect(page.locator("#done")).to_have_count(1)  # waits for the printed screen
    response = page.request.get(system["kiosk"].rstrip("/") + "/printed.pdf")
    assert response.body().startswith(b"%PDF")
    again = page.request.post(system["kiosk"].rstrip("/") + "/confirm")
    assert 'id="done"' not in again.text()  # no second print without the card and the PIN


def test_a_refusal_in_english_at_the_served_kiosk(page: Page, system: dict[str, Any]) -> None:
    page.goto(system["kiosk"] + "?lang=en")
    _signed_in(page, system, 1)
    page.click("#type-inkan")
    page.click("#copies-1")
    page.click("#pay")
    assert page.get_attribute("#reason", "data-reason") == "issuance_blocked"
    assert "Issuing certificates is stopped" in page.inner_text("#reason")
