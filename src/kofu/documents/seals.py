"""Seal impressions drawn as images: the mayor's official seal (公印) and residents' seals.

Both are generated, not scanned: a square black seal reading 〇〇市長之印 for the
mayor (the standard specification's 電子公印 is black and at most 25 mm square,
jyuki-stnd 5.6), and a round red seal with the registered characters for a resident.
Images are cached by their text, so a busy counter draws each seal once.
"""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from kofu.documents.fonts import GOTHIC, MINCHO, font_path

__all__ = ["mayor_seal_png", "resident_seal_png"]

_RED = (200, 30, 40, 255)
_BLACK = (20, 20, 20, 255)  # 電子公印: black on every certificate (jyuki-stnd 5.6)
_SIZE = 240


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


@lru_cache(maxsize=64)
def mayor_seal_png(title: str) -> bytes:
    """A square official seal: the characters of 〇〇市長之印 in columns, right to left."""
    text = f"{title}之印"
    cols = 3 if len(text) > 4 else 2
    rows = -(-len(text) // cols)
    image = Image.new("RGBA", (_SIZE, _SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, _SIZE - 7, _SIZE - 7), outline=_BLACK, width=10)
    cell_w, cell_h = (_SIZE - 36) / cols, (_SIZE - 36) / rows
    font = ImageFont.truetype(str(font_path(MINCHO)), int(min(cell_w, cell_h) * 0.95))
    for i, ch in enumerate(text):
        col, row = divmod(i, rows)
        x = _SIZE - 18 - (col + 1) * cell_w + cell_w / 2
        y = 18 + row * cell_h + cell_h / 2
        draw.text((x, y), ch, font=font, fill=_BLACK, anchor="mm")
    return _png(image)


@lru_cache(maxsize=4096)
def resident_seal_png(impression: str) -> bytes:
    """A round personal seal with up to four characters read top to bottom."""
    text = impression.replace("　", "")[:4] or "印"
    image = Image.new("RGBA", (_SIZE, _SIZE), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, _SIZE - 9, _SIZE - 9), outline=_RED, width=12)
    step = (_SIZE - 70) / len(text)
    font = ImageFont.truetype(str(font_path(GOTHIC)), int(min(step * 0.95, 130)))
    for i, ch in enumerate(text):
        draw.text((_SIZE / 2, 35 + step * (i + 0.5)), ch, font=font, fill=_RED, anchor="mm")
    return _png(image)
