"""The issuance center's layer on a city's PDF: the signed QR code and a copy-evident background.

The city's PDF is kept byte for byte: the layer is appended as an
incremental update (ISO 32000-1 §7.5.6), so the first ``content_length``
bytes of a stamped file are exactly the document whose digest the QR
payload signs.

The center stamps every print, so the layer is cheap by construction: the
background (地紋, 「複写」 tiled faintly) and the caption are drawn once per
process into Form XObjects, and each stamp only adds them by reference,
together with the QR code drawn as vector squares (no image to encode).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache

import zxingcpp
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts

__all__ = ["qr_path", "stamp"]

_QR_AT = (15 * mm, 14 * mm)  # lower left corner of the code on the first page
_QR_SIDE = 30 * mm
_BACKGROUND = NameObject("/KofuBackground")
_CAPTION = NameObject("/KofuCaption")


def qr_path(text: str) -> bytes:
    """The QR code (level M) as PDF path operators, one rectangle per run of dark modules."""
    image = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M").to_image(
        scale=1, add_quiet_zones=False
    )
    size = image.shape[0]
    pixels = bytes(memoryview(image))  # type: ignore[arg-type]  # a byte a module, 0 dark
    module = _QR_SIDE / (size + 4)  # a quiet zone of two modules each side
    x0, top = _QR_AT[0] + 2 * module, _QR_AT[1] + _QR_SIDE - 2 * module
    ops = [f"q 1 g {_QR_AT[0]:.2f} {_QR_AT[1]:.2f} {_QR_SIDE:.2f} {_QR_SIDE:.2f} re f 0 g"]
    for r in range(size):
        row, y, c = pixels[r * size : (r + 1) * size], top - (r + 1) * module, 0
        while c < size:
            if row[c]:
                c += 1
                continue
            start = c
            while c < size and not row[c]:
                c += 1
            ops.append(
                f"{x0 + start * module:.2f} {y:.2f} {(c - start) * module:.2f} {module:.2f} re"
            )
    ops.append("f Q")
    return "\n".join(ops).encode()


@dataclass(frozen=True)
class _Forms:
    """The fixed parts of the layer, read once: a page of background and a caption."""

    reader: PdfReader
    background: StreamObject
    caption: StreamObject


def _draw_fixed_parts() -> bytes:
    """Two pages: the 「複写」 background, then the caption under the QR code."""
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho)
    c.setFillGray(0.90)
    c.setFont(mincho, 34)
    for row in range(9):
        for col in range(4):
            c.drawString((12 + col * 52) * mm, (20 + row * 32 + (col % 2) * 14) * mm, "複写")
    c.showPage()
    c.setFont(mincho, 6.5)
    c.drawString(47 * mm, 16 * mm, "偽造防止コード（kofu verify で確認できます）")
    c.showPage()
    c.save()
    return buffer.getvalue()


def _as_form(page: PageObject) -> StreamObject:
    """A page of the fixed parts as a Form XObject with the page's own resources."""
    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data())  # type: ignore[union-attr]
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = page["/MediaBox"]
    form[NameObject("/Resources")] = page["/Resources"]
    return form


@cache
def _forms() -> _Forms:
    reader = PdfReader(io.BytesIO(_draw_fixed_parts()))
    return _Forms(reader, _as_form(reader.pages[0]), _as_form(reader.pages[1]))


_CLONING = threading.Lock()  # the reader of the fixed parts seeks one stream: one copier at a time


def _content(first: bool, qr: bytes) -> bytes:
    """What the layer draws on one page, in its own graphics state."""
    parts = [b"q", _BACKGROUND.encode() + b" Do"]
    if first:
        parts += [_CAPTION.encode() + b" Do", qr]
    parts.append(b"Q")
    return b"\n".join(parts)


def _resources_with(
    page: DictionaryObject, forms: dict[NameObject, IndirectObject]
) -> DictionaryObject:
    """The page's resources with the layer's forms added (copied inline, the original untouched)."""
    resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects.update(forms)
    resources[NameObject("/XObject")] = xobjects
    return resources


def stamp(pdf: bytes, qr_text: str) -> bytes:
    """The city's PDF with the center's layer appended as an incremental update."""
    fixed = _forms()
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    with _CLONING:
        forms = {
            _BACKGROUND: writer._add_object(fixed.background.clone(writer)),
            _CAPTION: writer._add_object(fixed.caption.clone(writer)),
        }
    qr = qr_path(qr_text)
    for number, page in enumerate(writer.pages):
        layer = DecodedStreamObject()
        layer.set_data(_content(number == 0, qr))
        original = page.raw_get("/Contents")
        # the city's content is wrapped in q … Q so its graphics state cannot leak into the layer
        opening, closing = DecodedStreamObject(), DecodedStreamObject()
        opening.set_data(b"q")
        closing.set_data(b"Q")
        contents = (
            list(original.get_object())
            if isinstance(original.get_object(), ArrayObject)
            else [original]
        )
        page[NameObject("/Contents")] = ArrayObject(
            [
                writer._add_object(opening),
                *contents,
                writer._add_object(closing),
                writer._add_object(layer.flate_encode()),
            ]
        )
        page[NameObject("/Resources")] = _resources_with(page, forms)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
