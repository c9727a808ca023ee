"""The issuance center's layer on a city's PDF: the signed QR code and a copy-evident background.

The city's PDF is kept byte for byte: the layer is appended as an
incremental update (ISO 32000-1 §7.5.6), so the first ``content_length``
bytes of a stamped file are exactly the document whose digest the QR
payload signs.
"""

from __future__ import annotations

import io

import segno
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts
from kofu.documents.sheet import image_reader

__all__ = ["qr_png", "stamp"]


def qr_png(text: str) -> bytes:
    """The QR code as PNG; a fixed mask pattern (any is valid) spares segno's mask search."""
    out = io.BytesIO()
    segno.make(text, error="m", mask=0, micro=False).save(out, kind="png", scale=4, border=2)
    return out.getvalue()


def _layer(pages: int, qr_text: str) -> bytes:
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho)
    for page in range(pages):
        c.setFillGray(0.90)
        c.setFont(mincho, 34)
        for row in range(9):  # 地紋: 「複写」 tiled faintly over the page
            for col in range(4):
                c.drawString((12 + col * 52) * mm, (20 + row * 32 + (col % 2) * 14) * mm, "複写")
        c.setFillGray(0)
        if page == 0:
            c.drawImage(image_reader(qr_png(qr_text)), 15 * mm, 14 * mm, 30 * mm, 30 * mm)
            c.setFont(mincho, 6.5)
            c.drawString(47 * mm, 16 * mm, "偽造防止コード（kofu verify で確認できます）")
        c.showPage()
    c.save()
    return buffer.getvalue()


def stamp(pdf: bytes, qr_text: str) -> bytes:
    """The city's PDF with the center's layer appended as an incremental update."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    layer = PdfReader(io.BytesIO(_layer(len(writer.pages), qr_text)))
    for page, overlay in zip(writer.pages, layer.pages, strict=True):
        page.merge_page(overlay)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
