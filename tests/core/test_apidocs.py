"""Every party's /docs in Chromium with the network closed: Swagger UI comes from the service.

Each of the four services (city, center, jpki, juki) is served on a loopback
socket; the browser may fetch from that service only, anything else is
refused and recorded.  The page must draw the API (its title and
operations) from the files the service hands out, as it would on a closed
network.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Route, sync_playwright

from apps import party_apps
from kofu.core.apidocs import add_docs, swagger_ui_path
from services import in_thread

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return party_apps(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.mark.skipif(swagger_ui_path() is None, reason="swagger-ui-dist not installed (setup.sh)")
@pytest.mark.parametrize("party", ["city", "center", "jpki", "juki"])
def test_docs_draw_the_api_from_the_service_alone(
    apps: dict[str, FastAPI], browser: Browser, party: str
) -> None:
    with in_thread(apps[party]) as url:
        context = browser.new_context()
        asked: list[str] = []

        def closed_network(route: Route) -> None:
            if route.request.url.startswith(url + "/"):
                route.continue_()
            else:
                asked.append(route.request.url)
                route.abort()

        context.route("**/*", closed_network)
        page = context.new_page()
        page.goto(url + "/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
        title = page.inner_text(".swagger-ui .info .title")
        operations = page.locator(".swagger-ui .opblock").count()
        html = page.content()
        context.close()
    assert title.startswith(apps[party].title)
    assert operations >= 3
    assert asked == []  # nothing from anywhere but the service
    assert "cdn." not in html and "unpkg" not in html


def test_without_swagger_ui_docs_say_so_and_link_the_document(tmp_path: Path) -> None:
    """No swagger-ui-dist where it was pointed: a plain page, still nothing remote."""
    import os

    before = os.environ.get("KOFU_SWAGGER_UI")
    os.environ["KOFU_SWAGGER_UI"] = str(tmp_path)  # an empty folder
    try:
        app = FastAPI(title="kofu test", docs_url=None, redoc_url=None)
        add_docs(app, "kofu test")
    finally:
        if before is None:
            os.environ.pop("KOFU_SWAGGER_UI")
        else:
            os.environ["KOFU_SWAGGER_UI"] = before
    with in_thread(app) as url, httpx.Client(base_url=url) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and 'href="/openapi.json"' in page.text
        assert "https://" not in page.text and "http://" not in page.text
        assert client.get("/docs/files/swagger-ui-bundle.js").status_code == 404
        assert client.get("/docs/files/..%2F..%2Fpackage.json").status_code == 404
