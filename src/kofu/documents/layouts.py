"""Drawing a certificate's blocks on a ``Sheet``.

A household list (世帯連記式) puts up to four members on a sheet (fewer
when their rows are long), further sheets for larger households, each
repeating the header; the certification is the renderer's, on the last.
"""

from __future__ import annotations

from kofu.documents.model import Certificate, Household, Paragraph, SealImpression, Table
from kofu.documents.seals import resident_seal_png
from kofu.documents.sheet import LEFT, Sheet

__all__ = ["common_words", "draw"]

# What the value column prints in Mincho whoever the person is: dates in the
# era, the foot of the page.  Reserved first in every document, with the
# form's own words (fonts.reserve_first), so that their embedded subset is the
# same bytes; only what a form really prints, since each costs every copy.
_EVERY = "明治大正昭和平成令和元年月日0123456789 /　、。（）第号発行番"


def common_words(cert: Certificate) -> str:
    """The characters ``cert``'s form prints in Mincho for anyone (fonts.reserve_first)."""
    return _EVERY + cert.form_words


def _table(sheet: Sheet, t: Table) -> None:
    sheet.rows(t.rows, label_w=t.label_w, size=t.size, caption=t.caption)


def _household(sheet: Sheet, h: Household) -> None:
    """Members fill a sheet up to ``per_sheet``; one who does not fit starts the next sheet.

    The count is per sheet, so a member moved on for lack of room is not
    followed by a sheet of one (3 + 1 + 2); each sheet repeats the header.
    """
    _table(sheet, h.header)
    on_sheet = 0
    for member in h.members:
        page = sheet.pages
        if on_sheet == h.per_sheet:
            sheet.new_page()
        else:
            sheet.ensure(sheet.rows_height(member.rows, member.label_w, member.size))
        if sheet.pages != page:
            _table(sheet, h.header)
            on_sheet = 0
        _table(sheet, member)
        on_sheet += 1


def _seal(sheet: Sheet, s: SealImpression) -> None:
    sheet.y += 2
    sheet.rect(LEFT, sheet.y, 50, 50)
    sheet.text(LEFT + 2, sheet.y + 4, "印影", 8)
    sheet.image(resident_seal_png(s.characters), LEFT + 10, sheet.y + 8, 34)
    sheet.y += 55


def draw(sheet: Sheet, cert: Certificate) -> None:
    """Draw the body of ``cert``; the certification block is the renderer's."""
    for block in cert.body:
        if isinstance(block, Table):
            _table(sheet, block)
        elif isinstance(block, Household):
            _household(sheet, block)
        elif isinstance(block, SealImpression):
            _seal(sheet, block)
        elif isinstance(block, Paragraph):
            sheet.paragraph(block.text)
