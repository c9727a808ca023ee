"""The public verifier page in Chromium, offline, against the corpus `kofu verify` is tested on.

The page is built into a folder and opened from the file system with every
network request refused, so it proves it needs nothing after loading.  Each
image of the corpus (scans of genuine and forged certificates, a foreign QR
code) and each code text (genuine, altered, cut short, signed by a stranger,
foreign) is given to the page and to ``verify_file``/``open_payload``; the
two must agree on genuine or not, on the reason, and on the signed name.
axe-core checks the page with each kind of answer on it; with
KOFU_SCREENS=DIR it is also saved as PNG at 1024×768 and 1280×1024.
"""

from __future__ import annotations

import io
import os
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from axe_playwright_python.sync_playwright import Axe
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Browser, Page, Route, sync_playwright
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from test_tamper_corpus import (
    FORGED_NAME,
    Genuine,
    _altered_code,
    _incremental,
    _overlay,
    _qr_png,
    _scan,
    _value_band,
    genuine,
    home,
    keys,
)

from kofu.documents.payload import InvalidPayload, open_payload, seal_payload
from kofu.documents.stamp import stamp
from kofu.documents.verify import verify_file
from kofu.verifier.site import build, decoder_path

__all__ = ["genuine", "home", "keys"]  # the corpus's fixtures, used here by name

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SCREENS = os.environ.get("KOFU_SCREENS")


def _checked(page: Page, name: str) -> None:
    """axe-core finds nothing; nothing runs off the side; with KOFU_SCREENS, PNGs of it."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    for width, height in ((1024, 768), (1280, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"the page scrolls sideways at {width} px"
        if SCREENS:
            page.screenshot(path=f"{SCREENS}/verifier-{name}-{width}x{height}.png", full_page=True)


@pytest.fixture(scope="module")
def site(keys: dict[bytes, x509.Certificate], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verifier")
    build(out, keys)
    return out / "index.html"


@pytest.fixture(scope="module")
def page(site: Path) -> Iterator[Page]:
    with sync_playwright() as p:
        browser: Browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1024})
        asked: list[str] = []

        def offline(route: Route) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                asked.append(route.request.url)
                route.abort()

        context.route("**/*", offline)
        page = context.new_page()
        page.goto(site.as_uri())
        page.wait_for_selector("body[data-ready=true]", state="attached")
        yield page
        assert asked == []  # nothing but the page's own files, ever
        browser.close()


def _python(image: Path | None, text: str | None, keys: dict[bytes, Any]) -> tuple[bool, str, str]:
    """What `kofu verify` says: genuine, the reason, the signed name."""
    try:
        claims = verify_file(image, keys).claims if image else open_payload(text or "", keys)
    except InvalidPayload as refused:
        return False, refused.reason, ""
    return True, "", claims.holder_name


def _page(page: Page, image: Path | None, text: str | None) -> tuple[bool, str, str]:
    page.evaluate("document.getElementById('result').removeAttribute('data-genuine')")
    if image is not None:
        page.set_input_files("#file", str(image))
    else:
        page.fill("#payload", text or "")
        page.click("#check")
        assert page.input_value("#file") == ""  # no image named beside a pasted code's answer
    page.wait_for_selector("#result[data-genuine]:not([data-busy])", timeout=30_000)
    result = page.locator("#result")
    good = result.get_attribute("data-genuine") == "true"
    name = page.inner_text("#c-holder") if good else ""
    # a refusal shows no name: not even the last genuine one's, left on the page
    assert page.locator("#claims").is_visible() == good
    return good, result.get_attribute("data-reason") or "", name


def _foreign_code() -> str:
    """A well-formed COSE_Sign1 in Base45 behind KF1:, but not kofu's: an EdDSA header."""
    cose = cbor2.CBORTag(18, [cbor2.dumps({1: -8}), {}, cbor2.dumps({1: "x"}), b"\0" * 64])
    return "KF1:" + base45.b45encode(zlib.compress(cbor2.dumps(cose))).decode()


def _plain_qr(folder: Path) -> Path:
    """A page with someone else's QR code on it (a web address)."""
    pdf = folder / "plain.pdf"
    canvas = Canvas(str(pdf), pagesize=A4)
    canvas.drawImage(ImageReader(io.BytesIO(_qr_png("https://example.org/"))), 60, 60, 90, 90)
    canvas.save()
    return _scan(pdf, folder, degrees=0.5, noise=0.05, seed=9)


@pytest.mark.skipif(decoder_path() is None, reason="jsQR not installed (scripts/setup.sh)")
def test_the_page_and_kofu_verify_agree_on_scans(
    page: Page, genuine: list[Genuine], keys: dict[bytes, Any], tmp_path: Path
) -> None:
    g = genuine[0]
    pdfs = {  # a stranger's key is in the texts' test: a scan adds nothing there
        "altered": stamp(g.city_pdf, _altered_code(g.code, holder_name=FORGED_NAME)),
        "unstamped": g.city_pdf,
        "whiteout": _incremental(g.store_pdf.read_bytes(), _overlay(_value_band(g.store_pdf))),
    }
    scans = [_scan(g.store_pdf, tmp_path, degrees=2.0, noise=0.12, seed=1)]
    for name, data in pdfs.items():
        (tmp_path / f"{name}.pdf").write_bytes(data)
        scans.append(_scan(tmp_path / f"{name}.pdf", tmp_path, degrees=1.5, noise=0.1, seed=3))
    scans.append(_plain_qr(tmp_path))
    seen = {}
    for scan in scans:
        expected = _python(scan, None, keys)
        assert _page(page, scan, None) == expected, scan.name
        seen[scan.stem] = expected
    _checked(page, "refused-scan")  # the last answer: someone else's QR code
    assert seen["store-1-1"] == (True, "", g.name)
    assert seen["whiteout-3"] == (True, "", g.name)  # the signed name, not the forged one
    assert {seen[k][1] for k in ("altered-3", "unstamped-3", "plain-9")} == {
        "bad_signature", "no_code", "not_kofu",
    }  # fmt: skip


def test_the_page_and_kofu_verify_agree_on_code_texts(
    page: Page, genuine: list[Genuine], keys: dict[bytes, Any]
) -> None:
    g = genuine[1]
    raw = zlib.compress(zlib.decompress(base45.b45decode(g.code[4:])), 9)
    texts = {
        "genuine": g.code,
        "altered": _altered_code(g.code, holder_name=FORGED_NAME),
        "truncated": "KF1:" + base45.b45encode(raw[: len(raw) // 2]).decode(),
        "cut": g.code[: len(g.code) - 30],
        "foreign": _foreign_code(),
        "other scheme": "HC1:" + g.code[4:],
        "not base45": "KF1:abc~",
        "stranger": seal_payload(
            verify_file(g.store_pdf, keys).claims, ec.generate_private_key(ec.SECP256R1()), b"k" * 8
        ),
    }
    verdicts = {}
    for name, text in texts.items():
        expected = _python(None, text, keys)
        assert _page(page, None, text) == expected, name
        verdicts[name] = expected[1]
    assert verdicts == {
        "genuine": "", "altered": "bad_signature", "truncated": "truncated",
        "cut": verdicts["cut"], "foreign": "not_kofu", "other scheme": "not_kofu",
        "not base45": "corrupt", "stranger": "unknown_key",
    }  # fmt: skip
    assert verdicts["cut"] in ("corrupt", "truncated")
    _page(page, None, texts["altered"])
    _checked(page, "refused")
    _page(page, None, g.code)
    assert page.inner_text("#c-holder") == g.name
    _checked(page, "genuine")


def test_the_page_is_served_and_built_with_the_published_keys(
    keys: dict[bytes, x509.Certificate], tmp_path: Path
) -> None:
    """`kofu serve verifier` hands out the same files `kofu verifier build` writes."""
    import httpx

    from kofu.verifier.web import create_verifier_app
    from services import in_thread

    written = {p.name for p in build(tmp_path, keys)}
    assert written == {"index.html", "verifier.js", "verifier.css", "keys.js", "jsQR.js"}
    with in_thread(create_verifier_app(keys)) as url, httpx.Client(base_url=url) as client:
        _served_like_built(client, keys, tmp_path)


def _served_like_built(client: Any, keys: dict[bytes, x509.Certificate], built: Path) -> None:
    index = client.get("/")
    assert index.status_code == 200 and "connect-src 'none'" in index.text
    assert "https://" not in index.text and "http://" not in index.text  # no CDN, nothing remote
    published = client.get("/keys.js").text
    assert all(kid.hex() in published for kid in keys)
    assert client.get("/keys.js").content == (built / "keys.js").read_bytes()
    assert client.get("/../../etc/passwd").status_code in (303, 404)
