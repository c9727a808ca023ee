"""The center's page in headless Chromium over mutual TLS: an alarm first, the log to search.

axe-core checks every page a test opens; with KOFU_SCREENS=DIR each is also
saved as PNG at 1024×768 and 1280×1024.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from center_world import CITY, NOON, center_for, make_world, sign_in, stop_the_city
from playwright.sync_api import Error, Page, sync_playwright

from kofu.center.adapters.links import HttpCities
from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.api.app import create_app
from kofu.center.services.issuance import CenterService
from kofu.city.api.app import create_app as city_app
from kofu.city.domain.store_rules import StoreRules
from kofu.contracts.store import IssueOptions
from kofu.core.network import network_identity
from services import Silent, in_thread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SCREENS = os.environ.get("KOFU_SCREENS")


def _checked(page: Page, name: str) -> None:
    """axe-core finds nothing; nothing runs off the side at 1024 px; with KOFU_SCREENS, PNGs."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    for width, height in ((1024, 768), (1280, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"the page scrolls sideways at {width} px"
        if SCREENS:
            page.screenshot(path=f"{SCREENS}/operator-{name}-{width}x{height}.png", full_page=True)


@pytest.fixture(scope="module")
def center_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A center whose link to the city once returned another person's document, served over mTLS."""
    tmp_path = tmp_path_factory.mktemp("status-page")
    world = make_world(tmp_path)
    honest = center_for(world)
    session = sign_in(honest, world)
    honest.request(
        session=session,
        request_id="store-ok-000001",
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="7-1",
        chain="seven",
    )
    honest.printed("store-ok-000001")
    stop_the_city(world)
    with in_thread(create_app(honest), network_identity(tmp_path, "center")) as url:
        yield url, tmp_path


def _open(
    url: str,
    certificates: list[dict[str, Any]],
    search: dict[str, str] | None = None,
    times: int = 1,
    name: str = "status",
) -> str:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = browser.new_context(
                ignore_https_errors=True,  # the private network CA is not in the browser's store
                client_certificates=certificates,  # type: ignore[arg-type]
            )
            page = context.new_page()
            for _ in range(times):  # a bound, not a timing: a hung city's 30 s would break it
                page.goto(url + "/", timeout=20_000)
            assert page.locator("meta[http-equiv=refresh]").count() == 0  # it never reloads itself
            if search:
                for field, value in search.items():
                    if field == "state":
                        page.select_option("#q-state", value)
                    else:
                        page.fill(f"#q-{field}", value)
                page.click("#search button")
                page.wait_for_load_state()
            _checked(page, name)
            return page.inner_text("body")
        finally:
            browser.close()


def test_the_operator_sees_the_alarm_and_the_log(center_url: tuple[str, Path]) -> None:
    url, home = center_url
    operator = network_identity(home, "operator")
    text = _open(
        url, [{"origin": url, "certPath": str(operator.cert), "keyPath": str(operator.key)}]
    )
    assert "交付停止中: 花巻市 (032051)" in text  # the city by name, as its /health says
    assert "holder_mismatch" in text and "store-bad-000001" in text
    assert "交付済 printed\t1" in text and "取消 voided\t1" in text


def test_the_page_is_closed_to_a_browser_without_a_network_certificate(
    center_url: tuple[str, Path],
) -> None:
    url, _ = center_url
    with pytest.raises(Error):
        _open(url, [])


def test_the_operator_searches_the_log_by_state_chain_and_time(
    center_url: tuple[str, Path],
) -> None:
    url, home = center_url
    operator = network_identity(home, "operator")
    certificates = [{"origin": url, "certPath": str(operator.cert), "keyPath": str(operator.key)}]
    voided = _open(
        url, certificates, {"state": "voided", "chain": "seven", "city": "032051"}, name="search"
    )
    assert "store-bad-000001" in voided and "store-ok-000001" not in voided
    assert "holder_mismatch" in voided  # the reason beside the entry
    before = _open(
        url, certificates, {"until": "2026-11-24T11:00"}, name="nothing"
    )  # the world's noon is later
    assert "該当なし" in before and "store-ok-000001" not in before


@pytest.fixture
def stopped_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A center whose city an alarm stopped, on its own store (the test resumes it)."""
    world = make_world(tmp_path)
    stop_the_city(world)
    with in_thread(create_app(center_for(world)), network_identity(tmp_path, "center")) as url:
        yield url, tmp_path


def test_a_supervisor_resumes_the_city_with_the_pages_button(stopped_url: tuple[str, Path]) -> None:
    url, home = stopped_url
    operator = network_identity(home, "operator")
    supervisor = network_identity(home, "operator-supervisor-yamada")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            plain = browser.new_context(
                ignore_https_errors=True,
                client_certificates=[  # type: ignore[list-item]
                    {"origin": url, "certPath": str(operator.cert), "keyPath": str(operator.key)}
                ],
            ).new_page()
            plain.goto(url + "/")
            assert plain.locator("#resume-032051").count() == 0  # no button for a plain operator
            assert "only a supervisor" in plain.inner_text("#stopped-032051")
            page = browser.new_context(
                ignore_https_errors=True,
                client_certificates=[  # type: ignore[list-item]
                    {
                        "origin": url,
                        "certPath": str(supervisor.cert),
                        "keyPath": str(supervisor.key),
                    }
                ],
            ).new_page()
            page.goto(url + "/")
            assert "交付停止中: 花巻市 (032051)" in page.inner_text("#alarm")
            _checked(page, "supervisor")
            page.click("#resume-032051")  # no reason: the browser keeps the form (required)
            assert page.locator("#stopped-032051").count() == 1
            page.fill("#reason-032051", "市の接続装置を交換、確認済み")
            page.click("#resume-032051")
            page.wait_for_load_state()
            assert page.url.rstrip("/") == url  # back on the page (303), not a JSON answer
            assert "交付停止なし" in page.inner_text("#ok")
            assert page.locator("#stopped-032051").count() == 0
            row = page.inner_text("#resumes")
            assert "花巻市 (032051)" in row and "operator-supervisor-yamada" in row
            assert "市の接続装置を交換、確認済み" in row
            assert "holder_mismatch" in page.inner_text("#alarms")  # the alarm stays on record
            _checked(page, "resumed")
        finally:
            browser.close()


def test_a_city_that_never_answers_is_named_and_does_not_hold_the_page(tmp_path: Path) -> None:
    """The real link to two cities: one answers its /health, one accepts and never replies.

    The page comes, names the answering city by name and the silent one as
    not answering; a second load inside the period the answers are kept
    asks the silent city nothing more (the one connection it ever got).
    """
    world = make_world(tmp_path)
    stop_the_city(world)
    city = city_app(world["city"], CITY, NOON, StoreRules())
    with (
        Silent() as hung,
        in_thread(city, network_identity(tmp_path, f"city-{CITY}", "lgwan")) as city_url,
    ):
        cities = HttpCities(
            {CITY: city_url, "019992": hung.url},
            network_identity(tmp_path, "center", "lgwan"),
            health_kept=timedelta(minutes=10),
            health_timeout=timedelta(seconds=1),
        )
        center = CenterService(
            sql_units(world["center"]),
            NOON,
            center_signer(tmp_path),
            world["issuer"],
            world["directory"],
            cities,
        )
        operator = network_identity(tmp_path, "operator")
        certificate = {"certPath": str(operator.cert), "keyPath": str(operator.key)}
        with in_thread(create_app(center), network_identity(tmp_path, "center")) as url:
            text = _open(url, [{"origin": url, **certificate}], times=2, name="silent")
        assert hung.accepted == 1  # kept: the second load did not ask again
        assert [c.name for c in cities.connected()] == ["019992", "岩手県花巻市"]
        cities.close()
    assert "応答のない市区町村: 019992" in text and "not answering" in text
    assert "交付停止中: 岩手県花巻市 (032051)" in text  # the answering city still by its name
