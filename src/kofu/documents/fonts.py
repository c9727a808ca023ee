"""The Japanese fonts documents embed (IPAex, from Debian's fonts-ipaexfont).

Parsing a CJK TrueType font costs far more than drawing a page, so each face
is parsed and registered once per process; every document then embeds only
the subset of glyphs it uses.  What reportlab would redo for every document
on top of that is kept per face too (``_KeptFont``), and ``reserve_first``
lets a document put the characters every certificate prints in a first
subset of their own, the same bytes from one document to the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kofu.core.errors import KofuError

__all__ = ["GOTHIC", "MINCHO", "font_path", "register_fonts", "reserve_first"]

MINCHO = "IPAexMincho"
GOTHIC = "IPAexGothic"
_FILES = {
    MINCHO: "ipaexfont-mincho/ipaexm.ttf",
    GOTHIC: "ipaexfont-gothic/ipaexg.ttf",
}
_DIRS = (Path("/usr/share/fonts/opentype"), Path("/usr/share/fonts/truetype"))
_SUBSET = 256  # codes in one embedded subset (a simple TrueType font in the PDF)
_KEPT = 32  # subsets kept per face: the form words of every type, and a few more


def font_path(face: str) -> Path:
    """Where the face's file is; a clear error names the package when it is missing."""
    for base in _DIRS:
        candidate = base / _FILES[face]
        if candidate.exists():
            return candidate
    raise KofuError(
        f"font {face} not found: install the Debian package fonts-ipaexfont (scripts/setup.sh does)"
    )


def _keep_work(face: Any) -> None:
    """Keep what reportlab would rebuild for every document, per parsed face.

    ``get_table`` slices the font file for each table a subset copies: the
    7 MB glyph table twice a document, a fifth of a render.  ``makeSubset``
    builds the same font program whenever a document uses the same
    characters in the same order (a form's labels; the characters reserved
    first), and it walks the font with a shared read position, so two
    threads drawing at once must not run it together.
    """
    tables: dict[str, bytes] = {}
    read_table: Callable[[str], bytes] = face.get_table
    make_subset: Callable[[list[int]], bytes] = face.makeSubset
    lock = threading.Lock()

    def get_table(tag: str) -> bytes:
        if tag not in tables:
            tables[tag] = read_table(tag)
        return tables[tag]

    @lru_cache(maxsize=_KEPT)
    def subset_of(codes: tuple[int, ...]) -> bytes:
        with lock:
            return make_subset(list(codes))

    face.get_table = get_table
    face.makeSubset = lambda subset: subset_of(tuple(subset))


class _Formatted(pdfdoc.PDFObject):  # type: ignore[misc]
    """A PDF value already written out."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


@lru_cache(maxsize=256)
def _widths(widths: tuple[float, ...]) -> _Formatted:
    return _Formatted(pdfdoc.PDFArray(widths).format(None))


class _KeptFont(TTFont):  # type: ignore[misc]
    """A TrueType font that keeps per process what reportlab redoes for every document.

    The parsed face keeps its tables and subsets (``_keep_work``).  A subset's
    /Widths is a number for each of up to 256 codes, each formatted on its
    own; the subset of a form's words has the same array in every document
    (``reserve_first``), so each distinct array is written out once.
    """

    def __init__(self, name: str, path: str) -> None:
        super().__init__(name, path, asciiReadable=False)
        _keep_work(self.face)

    def addObjects(self, doc: Any) -> None:  # noqa: N802  (reportlab's name)
        super().addObjects(doc)
        for font in doc.idToObject["BasicFonts"].dict.values():
            widths = getattr(font, "Widths", None)
            if isinstance(widths, pdfdoc.PDFArray):
                font.Widths = _widths(tuple(widths.sequence))


@cache
def register_fonts() -> tuple[str, str]:
    """Parse and register both faces once; returns their names (mincho, gothic)."""
    for face in (MINCHO, GOTHIC):
        pdfmetrics.registerFont(_KeptFont(face, str(font_path(face))))
    return MINCHO, GOTHIC


def reserve_first(doc: Any, face: str, chars: str) -> None:
    """Assign ``chars`` the face's first codes in this document, then close that subset.

    reportlab numbers characters in the order a document first draws them, so
    one person's name among the form's own words would make every embedded
    subset different.  Reserved first and closed, the form's words make the
    same subset in every document (built and compressed once, see
    ``_keep_work`` and ``sheet._QuickFlate``); the person's characters go to
    a small subset of their own.
    """
    font = pdfmetrics.getFont(face)
    state = font._assignState(doc)
    font.splitString("".join(dict.fromkeys(chars)), doc)
    state.nextCode = -(-state.nextCode // _SUBSET) * _SUBSET
