"""The copy-evident background: a latent 「複写」 faint to the eye that a copy shows.

A page is rendered as a printer would put it on paper (300 dpi), then
"copied" the way a copier or a scanner loses detail: averaged down to 150 dpi
and thresholded at half tone.  The latent word must stand out on the copy
and not on the original; the city's data must come through the copy intact,
and the QR code must still read from it.
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from numpy.typing import NDArray
from PIL import Image, ImageFilter
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts
from kofu.documents.stamp import LAYER, draw_latent_word, stamp

CODE = "KF1:COPY-EVIDENT-TEST-0123456789"
DATA = [f"住所　埼玉県深谷市西島町{n}番地　氏名　松浦　七海　令和8年11月23日" for n in range(1, 41)]


def _city_pdf() -> bytes:
    """A page of data lines over the whole height, as a certificate's table is printed."""
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    c.setFont(mincho, 10.5)
    for row, line in enumerate(DATA):
        c.drawString(60, 780 - row * 17, line)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _mask_pdf() -> bytes:
    """The latent words alone, solid: where they lie on the page."""
    _, gothic = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=1)
    c.setFillGray(0)
    draw_latent_word(c, gothic)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _raster(pdf: bytes, dpi: int) -> Image.Image:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.pdf"
        path.write_bytes(pdf)
        args = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-f", "1", "-l", "1"]
        subprocess.run([*args, str(path), f"{tmp}/out"], check=True, timeout=60)
        with Image.open(next(Path(tmp).glob("out*.png"))) as image:
            return image.convert("L")


def _copy(page: Image.Image, dpi: int) -> Image.Image:
    """What a 150 dpi copier keeps: each pixel the mean of its area, then black or white."""
    small = page.resize((page.width * 150 // dpi, page.height * 150 // dpi), Image.Resampling.BOX)
    return small.point(lambda v: 0 if v < 128 else 255)


def _array(image: Image.Image) -> NDArray[np.float64]:
    return np.asarray(image, dtype=np.float64)


@pytest.fixture(scope="module")
def pages() -> dict[str, Image.Image]:
    city = _city_pdf()
    return {
        "city": _raster(city, 300),
        "stamped": _raster(stamp(city, CODE), 300),
        "mask": _raster(_mask_pdf(), 300),
    }


def _upper(array: NDArray[np.float64]) -> NDArray[np.float64]:
    """The page above the QR code and its caption (the lowest fifth)."""
    return array[: int(array.shape[0] * 0.78)]


def test_the_latent_word_shows_on_a_copy_and_not_on_the_original(
    pages: dict[str, Image.Image],
) -> None:
    word = _upper(_array(pages["mask"])) < 128
    data = _upper(_array(pages["city"])) < 250  # the city's own ink, and a margin of blur
    data = _array(Image.fromarray(data).filter(ImageFilter.MaxFilter(9))) > 0
    background = ~word & ~data
    eye = _upper(_array(pages["stamped"].filter(ImageFilter.GaussianBlur(6))))  # ~0.5 mm
    tone_in, tone_out = eye[word & ~data].mean(), eye[background].mean()
    assert abs(tone_in - tone_out) < 2.5, (tone_in, tone_out)  # one even tint to the eye …
    assert 235 < tone_out < 252  # … and a faint one
    copy = _upper(_array(_copy(pages["stamped"], 300))) < 128
    small = (pages["mask"].width // 2, pages["mask"].height // 2)
    word_small = _upper(_array(pages["mask"].resize(small))) < 128
    city_copy = _copy(pages["city"], 300).filter(ImageFilter.MinFilter(7))  # data, widened
    data_small = _upper(_array(city_copy)) < 128
    black_in = copy[word_small & ~data_small].mean()
    black_out = copy[~word_small & ~data_small].mean()
    assert black_in > 0.015 and black_out < 0.001, (black_in, black_out)  # the word appears


def test_the_data_comes_through_the_copy_and_so_does_the_code(
    pages: dict[str, Image.Image], tmp_path: Path
) -> None:
    city = _array(_copy(pages["city"], 300)) < 128
    stamped_copy = _copy(pages["stamped"], 300)
    stamped = _array(stamped_copy) < 128
    kept = (stamped & city).sum() / city.sum()
    assert kept > 0.995  # every stroke of the data is still black on the copy
    codes = [r.text for r in zxingcpp.read_barcodes(stamped_copy)]
    assert codes == [CODE]


def test_nothing_of_the_layer_is_drawn_over_the_data() -> None:
    """Version 2 draws the background before the city's content; only the code goes on top."""
    city = _city_pdf()
    page = PdfReader(io.BytesIO(stamp(city, CODE))).pages[0]
    contents = page["/Contents"]
    streams = [ref.get_object().get_data() for ref in contents]
    assert LAYER == 2
    assert b"/KofuBackground Do" in streams[0] and b"/KofuBackground" not in streams[-1]
    assert b"/KofuQR Do" in streams[-1]
