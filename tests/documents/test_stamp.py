"""The center's layer: a well-formed incremental update on every page; the original kept."""

from __future__ import annotations

import io
import random
import subprocess
import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts
from kofu.documents.stamp import stamp
from kofu.documents.verify import read_codes


def _city_pdf(pages: int) -> bytes:
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    for n in range(pages):
        canvas.setFont(mincho, 14)
        canvas.drawString(100, 700, f"戸籍全部事項証明書　{n + 1}頁")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


@pytest.mark.parametrize("pages", [1, 3])
def test_every_page_gets_the_layer_and_the_first_the_code(pages: int, tmp_path: Path) -> None:
    original = _city_pdf(pages)
    out = stamp(original, "KF1:TEST-PAYLOAD-0123456789")
    assert out.startswith(original) and len(out) > len(original)
    reader = PdfReader(io.BytesIO(out), strict=True)
    assert len(reader.pages) == pages
    for page in reader.pages:
        assert {"/KofuBackground", "/KofuCaption"} <= set(page["/Resources"]["/XObject"])
    path = tmp_path / "stamped.pdf"
    path.write_bytes(out)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
    assert info.returncode == 0 and "Error" not in info.stderr
    assert f"Pages:           {pages}" in info.stdout
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert text.count("複写") >= 8 * pages and f"{pages}頁" in text  # the latent words
    assert read_codes(path) == ["KF1:TEST-PAYLOAD-0123456789"]


@pytest.mark.parametrize("length", [60, 333, 358])
def test_the_code_has_the_chosen_mask_and_reads_from_a_150_dpi_scan(
    length: int, tmp_path: Path
) -> None:
    """Level M and mask pattern 3 as asked, and a scan of the printed page still decodes."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    text = "KF1:" + "".join(random.Random(length).choice(alphabet) for _ in range(length - 4))
    path = tmp_path / "stamped.pdf"
    path.write_bytes(stamp(_city_pdf(1), text))
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "scan")],
        check=True,
    )
    found = zxingcpp.read_barcodes(Image.open(tmp_path / "scan.png"))
    assert [code.text for code in found] == [text]
    assert found[0].extra["ECLevel"] == "M" and found[0].extra["DataMask"] == 3


def test_a_truncated_pdf_is_not_stamped() -> None:
    with pytest.raises(PdfReadError):
        stamp(_city_pdf(1)[:-200], "KF1:X")


def test_the_load_runs_read_back_finds_the_holder_and_only_the_holder(tmp_path: Path) -> None:
    """The check the 5,000-issuance run makes of every print can fail (and removes the file)."""
    from kofu.bench.issuance import _names_holder

    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.setFont(mincho, 12)
    canvas.drawString(100, 700, "氏名　武田　剛（タケダ　ツヨシ）")
    canvas.save()
    stamped = stamp(buffer.getvalue(), "KF1:TEST")
    for name, expected in (("武田 剛", True), ("武田 千春", False)):
        path = tmp_path / "print.pdf"
        path.write_bytes(stamped)
        assert _names_holder(path, name) is expected
        assert not path.exists()


def test_the_layer_is_the_same_in_a_fresh_process_as_after_rendering(tmp_path: Path) -> None:
    """The verifier draws the layer again to compare it, so what ran before must not change it.

    The renderer gives reportlab its own faster compressor; a process that
    rendered a certificate first (the demo, a bench) once drew a different layer.
    """
    from kofu.documents import sheet  # noqa: F401  (installs the renderer's compressor)

    original = tmp_path / "city.pdf"
    original.write_bytes(_city_pdf(1))
    here = stamp(original.read_bytes(), "KF1:SAME-EVERYWHERE")
    fresh = tmp_path / "fresh.pdf"
    script = (
        "import sys, pathlib; from kofu.documents.stamp import stamp; "
        "p = pathlib.Path(sys.argv[1]); "
        "pathlib.Path(sys.argv[2]).write_bytes(stamp(p.read_bytes(), 'KF1:SAME-EVERYWHERE'))"
    )
    subprocess.run([sys.executable, "-c", script, str(original), str(fresh)], check=True)
    assert fresh.read_bytes() == here
