"""The Japanese fonts documents embed (IPAex, from Debian's fonts-ipaexfont).

Parsing a CJK TrueType font costs far more than drawing a page, so each face
is parsed and registered once per process; every document then embeds only
the subset of glyphs it uses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from kofu.core.errors import KofuError

__all__ = ["GOTHIC", "MINCHO", "font_path", "register_fonts"]

MINCHO = "IPAexMincho"
GOTHIC = "IPAexGothic"
_FILES = {
    MINCHO: "ipaexfont-mincho/ipaexm.ttf",
    GOTHIC: "ipaexfont-gothic/ipaexg.ttf",
}
_DIRS = (Path("/usr/share/fonts/opentype"), Path("/usr/share/fonts/truetype"))


def font_path(face: str) -> Path:
    """Where the face's file is; a clear error names the package when it is missing."""
    for base in _DIRS:
        candidate = base / _FILES[face]
        if candidate.exists():
            return candidate
    raise KofuError(
        f"font {face} not found: install the Debian package fonts-ipaexfont (scripts/setup.sh does)"
    )


@cache
def register_fonts() -> tuple[str, str]:
    """Parse and register both faces once; returns their names (mincho, gothic)."""
    for face in (MINCHO, GOTHIC):
        pdfmetrics.registerFont(TTFont(face, str(font_path(face))))
    return MINCHO, GOTHIC
