"""A4 sheets drawn with reportlab, measured in millimetres from the top-left corner.

Certificates are forms: boxes with a label column and a value column, a title,
and the certification block at the foot of the last page.  ``Sheet`` keeps a
cursor that flows down the page and starts a new page when a block would not
fit, so a large household or a long register runs onto several pages.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.pdfdoc import PDFImageXObject
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import reserve_first

__all__ = ["LEFT", "RIGHT", "WIDTH", "Sheet", "wrap"]

PAGE_W, PAGE_H = A4
WIDTH = 210.0
LEFT, RIGHT = 15.0, 195.0
BOTTOM = 62.0  # room kept on every page for the certification block

# Binary streams as they are: ASCII85 would make every image and font stream a
# quarter larger and, without reportlab's optional C accelerator, cost more
# time than drawing the whole page.
rl_config.useA85 = 0


@lru_cache(maxsize=64)  # two faces' kept subsets (fonts._KEPT) and their ToUnicode maps
def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 1)


class _QuickFlate(pdfdoc.PDFStreamFilterZCompress):  # type: ignore[misc]
    """Flate at zlib's fastest level rather than its default (6), each distinct stream once.

    The embedded glyph subsets are most of a certificate's bytes; compressing
    them at level 6 cost a fifth of the render for 3 % fewer bytes.  The
    subsets of a form's own words are the same bytes in every document
    (fonts.reserve_first), so their compressed form is kept.  reportlab
    looks the filter up by this module-level name each time it writes a stream.
    """

    def encode(self, text: str | bytes) -> bytes:
        return _deflate(text.encode("utf8") if isinstance(text, str) else text)


pdfdoc.PDFZCompress = _QuickFlate()
_pdfdoc_encode = pdfdoc.pdfdocEnc


def _encode(text: str | bytes) -> bytes:
    """reportlab's PDFDocEncoding, with printable ASCII (every name and number) taken directly.

    A page's objects format a few hundred names and numbers, each through a
    Python-level codec; for printable ASCII that codec is the identity.
    """
    if isinstance(text, str) and text.isascii() and text.isprintable():
        return text.encode("ascii")
    return _pdfdoc_encode(text)  # type: ignore[no-any-return]


pdfdoc.pdfdocEnc = _encode


@dataclass(frozen=True)
class PreparedImage:
    """An RGBA picture as the two Flate-compressed streams a PDF image needs.

    Compressed once per distinct picture and process (the mayor's seal is on
    every document), then copied into each document as it is drawn.
    """

    name: str
    width: int
    height: int
    rgb: bytes
    alpha: bytes


@lru_cache(maxsize=4096)
def prepared_image(png: bytes) -> PreparedImage:
    with Image.open(io.BytesIO(png)) as picture:
        rgba = picture.convert("RGBA")
    return PreparedImage(
        name="img" + hashlib.sha256(png).hexdigest()[:24],
        width=rgba.width,
        height=rgba.height,
        rgb=zlib.compress(rgba.convert("RGB").tobytes()),
        alpha=zlib.compress(rgba.getchannel("A").tobytes()),
    )


def _image_stream(name: str, picture: PreparedImage, colour: bool) -> PDFImageXObject:
    stream = PDFImageXObject(name)
    stream.width, stream.height, stream.bitsPerComponent = picture.width, picture.height, 8
    stream.colorSpace = "DeviceRGB" if colour else "DeviceGray"
    stream.streamContent = picture.rgb if colour else picture.alpha
    stream._filters = ("FlateDecode",)
    stream.mask = None
    return stream


def draw_prepared(canvas: Canvas, picture: PreparedImage, box: tuple[float, ...]) -> None:
    """Draw ``picture`` with its soft mask into ``box`` (x, y, width, height in points).

    What ``Canvas.drawImage`` does for an image with transparency, minus
    decoding and compressing the picture again for every document.
    """
    doc = canvas._doc
    ref = doc.getXObjectName(picture.name)
    if ref not in doc.idToObject:
        image = _image_stream(picture.name, picture, colour=True)
        canvas._setXObjects(image)
        doc.Reference(image, ref)
        doc.addForm(picture.name, image)
        mask = _image_stream(picture.name + "a", picture, colour=False)
        mask._decode = [0, 1]
        canvas._setXObjects(mask)
        image.smask = doc.Reference(mask, doc.getXObjectName(mask.name))
    x, y, width, height = box
    canvas.saveState()
    canvas.translate(x, y)
    canvas.scale(width, height)
    canvas._code.append(f"/{ref} Do")
    canvas.restoreState()
    canvas._currentPageHasImages = 1
    canvas._formsinuse.append(picture.name)


@lru_cache(maxsize=65536)
def _char_width(ch: str, font: str, size: float) -> float:
    return float(stringWidth(ch, font, size))


def wrap(text: str, font: str, size: float, width_mm: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm`` (Japanese breaks anywhere).

    Widths are summed a character at a time (the embedded faces have no
    kerning), so a long address costs one cached lookup per character rather
    than a measurement of the whole line for every character added.
    """
    limit = width_mm * mm
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0.0
        for ch in paragraph:
            w = _char_width(ch, font, size)
            if width + w > limit and line:
                lines.append(line)
                line, width = ch, w
            else:
                line, width = line + ch, width + w
        lines.append(line)
    return lines


class Sheet:
    """One document being drawn: pages, a cursor, and the faces to draw with."""

    def __init__(
        self,
        title: str,
        mincho: str,
        gothic: str,
        *,
        subject: str = "",
        common: str = "",
        foot: str = "",
        marks: tuple[str, ...] = (),
    ) -> None:
        """``common``: the characters every document of its kind prints (fonts.reserve_first).

        ``foot``: printed at the foot of every page before its number (the 発行番号).
        """
        self.buffer = io.BytesIO()
        self.canvas = Canvas(
            self.buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho
        )
        self.canvas.setTitle(title)
        self.canvas.setSubject(subject)
        self.canvas.setCreator("kofu")
        if common:
            reserve_first(self.canvas._doc, mincho, common)
        self.mincho, self.gothic = mincho, gothic
        self.title = title
        self.foot = foot
        self.marks = marks
        self.y = 0.0
        self.pages = 1

    # --- primitives (mm, from the top-left) -------------------------------------------------

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 10,
        *,
        font: str | None = None,
        align: str = "left",
    ) -> None:
        c = self.canvas
        c.setFont(font or self.mincho, size)
        px, py = x * mm, PAGE_H - y * mm
        if align == "center":
            c.drawCentredString(px, py, s)
        elif align == "right":
            c.drawRightString(px, py, s)
        else:
            c.drawString(px, py, s)

    def rect(self, x: float, y: float, w: float, h: float, width: float = 0.6) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.rect(x * mm, PAGE_H - (y + h) * mm, w * mm, h * mm)

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.4) -> None:
        self.canvas.setLineWidth(width)
        self.canvas.line(x1 * mm, PAGE_H - y1 * mm, x2 * mm, PAGE_H - y2 * mm)

    def image(self, png: bytes, x: float, y: float, size: float) -> None:
        box = (x * mm, PAGE_H - (y + size) * mm, size * mm, size * mm)
        draw_prepared(self.canvas, prepared_image(png), box)

    # --- flow -------------------------------------------------------------------------------

    def heading(self, title: str) -> None:
        self.text(WIDTH / 2, 22, title, 18, font=self.gothic, align="center")
        x = RIGHT
        for mark in self.marks:  # 公用 (jyuki-stnd 5.7), 見本: boxed at the top right
            width = len(mark) * 5.2 + 4
            self.rect(x - width, 14, width, 10)
            self.text(x - width / 2, 21.5, mark, 13, font=self.gothic, align="center")
            x -= width + 3
        self.y = 32.0

    def new_page(self, title: str | None = None) -> None:
        self._foot()
        self.canvas.showPage()
        self.pages += 1
        self.heading(title or self.title)

    def ensure(self, height: float) -> None:
        """Start a new page when ``height`` mm would not fit above the foot."""
        if self.y + height > PAGE_H / mm - BOTTOM:
            self.new_page()

    def _measure(
        self, rows: Sequence[tuple[str, str]], label_w: float, size: float
    ) -> tuple[list[tuple[str, list[str]]], list[float]]:
        """Each row's wrapped lines and its height in mm."""
        value_w = RIGHT - LEFT - label_w - 4
        wrapped = [(label, wrap(value, self.mincho, size, value_w)) for label, value in rows]
        return wrapped, [max(1, len(lines)) * size * 0.42 + 2.6 for _, lines in wrapped]

    def rows_height(
        self, rows: Sequence[tuple[str, str]], label_w: float = 38, size: float = 9.5
    ) -> float:
        """The height ``rows`` would take, to decide a page break before drawing."""
        return sum(self._measure(rows, label_w, size)[1])

    def rows(
        self,
        rows: Sequence[tuple[str, str]],
        *,
        label_w: float = 38,
        size: float = 9.5,
        caption: str | None = None,
    ) -> None:
        """A bordered box of label | value rows; long values wrap inside their cell."""
        wrapped, heights = self._measure(rows, label_w, size)
        line_h = size * 0.42
        total = sum(heights) + (6 if caption else 0)
        self.ensure(total)
        top = self.y
        if caption:
            self.text(LEFT, top + 4, caption, 10, font=self.gothic)
            top += 6
        y = top
        for (label, lines), h in zip(wrapped, heights, strict=True):
            self.text(LEFT + 2, y + line_h + 0.8, label, size - 0.5, font=self.gothic)
            for i, s in enumerate(lines):
                self.text(LEFT + label_w + 2, y + line_h * (i + 1) + 0.8, s, size)
            y += h
            self.line(LEFT, y, RIGHT, y, 0.3)
        self.rect(LEFT, top, RIGHT - LEFT, y - top)
        self.line(LEFT + label_w, top, LEFT + label_w, y, 0.3)
        self.y = y + 3

    def paragraph(self, text: str, size: float = 9.5, indent: float = 0) -> None:
        lines = wrap(text, self.mincho, size, RIGHT - LEFT - indent)
        self.ensure(len(lines) * size * 0.45 + 2)
        for s in lines:
            self.y += size * 0.45
            self.text(LEFT + indent, self.y, s, size)
        self.y += 2

    def certify(
        self,
        statement: str,
        date_text: str,
        mayor_title: str,
        mayor_name: str,
        seal_png: bytes,
        issue_no: str,
    ) -> None:
        """The certification block at the foot of the last page: statement, date, mayor, seal."""
        base = PAGE_H / mm - BOTTOM + 8
        self.text(LEFT + 4, base, statement, 10.5)
        self.text(LEFT + 4, base + 9, date_text, 10.5)
        self.text(RIGHT - 32, base + 22, f"{mayor_title}　　{mayor_name}", 13, align="right")
        self.image(seal_png, RIGHT - 27, base + 12, 24)
        if issue_no:
            self.text(LEFT, PAGE_H / mm - 12, issue_no, 8.5)

    def _foot(self) -> None:
        """Page m of n at the foot; n is a form drawn once at the end (forward reference)."""
        if self.foot:
            self.text(LEFT, PAGE_H / mm - 10, f"発行番号　{self.foot}", 8.5)
        self.text(RIGHT - 8, PAGE_H / mm - 10, f"{self.pages} /", 8.5, align="right")
        self.canvas.saveState()
        self.canvas.translate((RIGHT - 7) * mm, 10 * mm)
        self.canvas.doForm("page_total")
        self.canvas.restoreState()

    def finish(self) -> bytes:
        self._foot()
        self.canvas.showPage()
        self.canvas.beginForm("page_total")
        self.canvas.setFont(self.mincho, 8.5)
        self.canvas.drawString(0, 0, str(self.pages))
        self.canvas.endForm()
        self.canvas.save()
        return self.buffer.getvalue()
