"""The verifier page's camera path, in Chromium, fed a video of a real certificate.

Chromium's fake capture device plays a YUV4MPEG2 file as the camera, so
the page's own getUserMedia → video → jsQR loop runs unchanged.  The video
is made from a genuine store PDF of the tamper corpus (rendered by the
city's renderer and stamped by the center), rasterised with poppler and
framed as a camera held over the code would see it: the lower left of the
paper, close up, turned a little, with grain.  The page must reach the verdict
``verify_file`` (what `kofu verify` runs) reaches on the same frame, and a
certificate whose code was altered must be refused for the same reason.
"""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from PIL import Image
from playwright.sync_api import Page, Route, sync_playwright
from test_tamper_corpus import FORGED_NAME, Genuine, _altered_code, genuine, home, keys

from kofu.documents.payload import InvalidPayload
from kofu.documents.stamp import stamp
from kofu.documents.verify import verify_file
from kofu.verifier.site import build, decoder_path

__all__ = ["genuine", "home", "keys"]  # the corpus's fixtures, used here by name

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FRAME = (800, 600)  # a modest webcam; both even, as 4:2:0 chroma needs

pytestmark = pytest.mark.skipif(
    decoder_path() is None, reason="jsQR not installed (scripts/setup.sh)"
)


def _frames(pdf: Path, folder: Path, dpi: int, count: int = 3) -> list[Image.Image]:
    """What a camera over the code's corner sees at ``dpi``: a few frames, turned and grainy."""
    stem = folder / f"{pdf.stem}-{dpi}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(stem)], check=True
    )
    with Image.open(f"{stem}.png") as page:
        grey = page.convert("L")
    width, height = FRAME
    left, bottom = 40 * dpi // 300, grey.height - 80 * dpi // 300  # the code is bottom left
    corner = grey.crop((left, bottom - height, left + width, bottom))
    frames = []
    for n in range(count):
        turned = corner.rotate(1.5 + n / 2, resample=Image.Resampling.BICUBIC, fillcolor=235)
        noise = random.Random(n).randbytes(width * height)
        frames.append(Image.blend(turned, Image.frombytes("L", FRAME, noise), 0.08))
    return frames


def _y4m(frames: list[Image.Image], path: Path) -> Path:
    """YUV4MPEG2 by hand: a header line, then per frame the Y plane and flat grey U and V."""
    width, height = FRAME
    chroma = bytes([128]) * (width // 2) * (height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F5:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path


def _kofu_verify(image: Path, keys: dict[bytes, Any]) -> tuple[bool, str, str]:
    """What `kofu verify` says of one camera frame: genuine, the reason, the signed name."""
    try:
        claims = verify_file(image, keys).claims
    except InvalidPayload as refused:
        return False, refused.reason, ""
    return True, "", claims.holder_name


@pytest.fixture(scope="module")
def site(keys: dict[bytes, x509.Certificate], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verifier")
    build(out, keys)
    return out / "index.html"


def _through_camera(site: Path, video: Path) -> tuple[bool, str, str]:
    """Open the page with ``video`` as the only camera, press the camera button, read the answer."""
    args = [
        "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]  # fmt: skip
    asked: list[str] = []

    def offline(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 1024})
        context.route("**/*", offline)
        page = context.new_page()
        page.goto(site.as_uri())
        page.wait_for_selector("body[data-ready=true]", state="attached")
        verdict = _press_camera(page)
        browser.close()
    assert asked == []  # the camera path too sends nothing anywhere
    return verdict


def _press_camera(page: Page) -> tuple[bool, str, str]:
    page.click("#camera")
    page.wait_for_selector("#result[data-genuine]", state="attached", timeout=60_000)
    result = page.locator("#result")
    good = result.get_attribute("data-genuine") == "true"
    name = page.inner_text("#c-holder") if good else ""
    assert page.locator("#claims").is_visible() == good  # a refusal names nobody
    assert page.locator("#video").is_hidden()  # the camera is let go once the code is read
    return good, result.get_attribute("data-reason") or "", name


@pytest.fixture(scope="module")
def videos(genuine: list[Genuine], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("camera")
    g = genuine[0]
    forged = folder / "altered.pdf"
    forged.write_bytes(stamp(g.city_pdf, _altered_code(g.code, holder_name=FORGED_NAME)))
    made = {}
    for name, pdf, dpi in [
        ("close", g.store_pdf, 300),  # a phone a hand's breadth above the paper
        ("farther", g.store_pdf, 150),  # the code a fifth of the frame: the page's own size
        ("altered", forged, 300),
    ]:
        frames = _frames(pdf, folder, dpi)
        frames[0].save(folder / f"{name}.png")
        made[name] = (_y4m(frames, folder / f"{name}.y4m"), folder / f"{name}.png")
    yield made


@pytest.mark.parametrize("distance", ["close", "farther"])
def test_a_genuine_certificate_held_to_the_camera_is_verified_like_kofu_verify(
    site: Path, videos: Any, genuine: list[Genuine], keys: dict[bytes, Any], distance: str
) -> None:
    video, still = videos[distance]
    expected = _kofu_verify(still, keys)
    assert expected == (True, "", genuine[0].name)
    assert _through_camera(site, video) == expected


def test_an_altered_certificate_held_to_the_camera_is_refused_like_kofu_verify(
    site: Path, videos: Any, keys: dict[bytes, Any]
) -> None:
    video, still = videos["altered"]
    expected = _kofu_verify(still, keys)
    assert expected == (False, "bad_signature", "")
    assert _through_camera(site, video) == expected
