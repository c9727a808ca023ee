"""Rendering a composed certificate to PDF bytes, built for throughput.

The expensive parts of a CJK PDF are parsing the TrueType font, building and
compressing the embedded glyph subsets, and decoding seal images.  The font
and the images are prepared once per process (fonts.register_fonts, the image
caches); the characters a form prints for anyone are reserved first in each
document, so their subset is built and compressed once too
(fonts.reserve_first), and each document builds only the small subset of the
person's own characters.
``render_plain`` is the baseline the benchmark compares against: the same
page, re-parsing the font for every document, as a naive renderer would.
"""

from __future__ import annotations

import hashlib

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kofu.core.era import wareki
from kofu.documents.fonts import GOTHIC, MINCHO, font_path, register_fonts
from kofu.documents.layouts import common_words, draw
from kofu.documents.model import Certificate
from kofu.documents.seals import mayor_seal_png
from kofu.documents.sheet import Sheet, prepared_image

__all__ = ["content_digest", "render", "render_plain"]


def _render(doc: Certificate, mincho: str, gothic: str, *, reserve: bool) -> bytes:
    c = doc.certification
    signed = f"{c.prefecture}{c.mayor_title}{c.mayor_name}"
    common = f"{common_words(doc)}{c.statement}{signed}"
    sheet = Sheet(
        doc.title,
        mincho,
        gothic,
        subject=f"{c.city_code}:{c.issue_number}",
        common=common if reserve else "",
        foot=c.issue_label,
        marks=doc.marks,
    )
    sheet.heading(doc.title)
    draw(sheet, doc)
    sheet.certify(
        c.statement,
        wareki(c.issued_on),
        f"{c.prefecture}{c.mayor_title}",
        c.mayor_name,
        mayor_seal_png(c.seal_title or c.mayor_title),
        "" if c.issue_label else f"発行番号　第{c.issue_number:07d}号",
    )
    return sheet.finish()


def render(doc: Certificate) -> bytes:
    """The certificate as an A4 PDF with an embedded IPAex subset."""
    mincho, gothic = register_fonts()
    return _render(doc, mincho, gothic, reserve=True)


def render_plain(doc: Certificate) -> bytes:
    """The same PDF the naive way: the fonts parsed and registered anew for this document."""
    suffix = f"-plain-{id(doc)}"
    for face in (MINCHO, GOTHIC):
        pdfmetrics.registerFont(TTFont(face + suffix, str(font_path(face))))
    try:
        mayor_seal_png.cache_clear()
        prepared_image.cache_clear()  # the seal drawn and compressed anew, too
        return _render(doc, MINCHO + suffix, GOTHIC + suffix, reserve=False)
    finally:
        for face in (MINCHO, GOTHIC):
            pdfmetrics._fonts.pop(face + suffix, None)


def content_digest(pdf: bytes) -> str:
    """SHA-256 of the document, carried with it to the issuance center."""
    return hashlib.sha256(pdf).hexdigest()
