"""A4 sheets drawn with reportlab, measured in millimetres from the top-left corner.

Certificates are forms: boxes with a label column and a value column, a title,
and the certification block at the foot of the last page.  ``Sheet`` keeps a
cursor that flows down the page and starts a new page when a block would not
fit, so a large household or a long register runs onto several pages.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

__all__ = ["LEFT", "RIGHT", "WIDTH", "Sheet", "image_reader", "wrap"]

PAGE_W, PAGE_H = A4
WIDTH = 210.0
LEFT, RIGHT = 15.0, 195.0
BOTTOM = 62.0  # room kept on every page for the certification block


@lru_cache(maxsize=4096)
def image_reader(png: bytes) -> ImageReader:
    """Decoded once per distinct image (the mayor's seal is on every document).

    reportlab decodes lazily and writes the result into the reader, so a
    reader shared by concurrent renders is decoded in full here, before it is
    shared; afterwards drawing only reads it.
    """
    reader = ImageReader(io.BytesIO(png))
    reader.getSize()
    reader.getRGBData()
    alpha = getattr(reader, "_dataA", None)  # the soft mask reportlab splits off
    if alpha is not None:
        alpha.getSize()
        alpha.getRGBData()
    return reader


def wrap(text: str, font: str, size: float, width_mm: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm`` (Japanese breaks anywhere)."""
    limit = width_mm * mm
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if stringWidth(line + ch, font, size) > limit and line:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


class Sheet:
    """One document being drawn: pages, a cursor, and the faces to draw with."""

    def __init__(self, title: str, mincho: str, gothic: str, *, subject: str = "") -> None:
        self.buffer = io.BytesIO()
        self.canvas = Canvas(
            self.buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho
        )
        self.canvas.setTitle(title)
        self.canvas.setSubject(subject)
        self.canvas.setCreator("kofu")
        self.mincho, self.gothic = mincho, gothic
        self.title = title
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
        self.canvas.drawImage(
            image_reader(png), x * mm, PAGE_H - (y + size) * mm, size * mm, size * mm, mask="auto"
        )

    # --- flow -------------------------------------------------------------------------------

    def heading(self, title: str) -> None:
        self.text(WIDTH / 2, 22, title, 18, font=self.gothic, align="center")
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
        self.text(LEFT, PAGE_H / mm - 12, issue_no, 8.5)

    def _foot(self) -> None:
        """Page m of n at the foot; n is a form drawn once at the end (forward reference)."""
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
