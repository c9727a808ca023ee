"""What a certificate says and how it is laid out, in the renderer's own terms.

The renderer draws these and knows nothing of the registers behind them:
each party that issues certificates maps its records to a ``Certificate``
(the city's mapping is ``kofu.city.services.layout``).  Everything is text
the page prints, in order, in a few kinds of block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "Block",
    "Certificate",
    "Certification",
    "Household",
    "Paragraph",
    "Row",
    "SealImpression",
    "Table",
]

Row = tuple[str, str]  # label, value


@dataclass(frozen=True)
class Table:
    """A bordered box of label | value rows; long values wrap inside their cell."""

    rows: tuple[Row, ...]
    label_w: float = 38  # mm
    size: float = 9.5  # pt
    caption: str | None = None


@dataclass(frozen=True)
class Paragraph:
    """A line of text across the page, wrapped."""

    text: str


@dataclass(frozen=True)
class SealImpression:
    """A registered seal's impression (印影) drawn in its box."""

    characters: str  # what the seal carries


@dataclass(frozen=True)
class Household:
    """A household list (世帯連記式): each sheet repeats the header; a member never splits."""

    header: Table
    members: tuple[Table, ...]
    per_sheet: int = 4


Block = Table | Paragraph | SealImpression | Household


@dataclass(frozen=True)
class Certification:
    """The certification block (認証文) at the foot of the last page, and who signs it."""

    statement: str
    issued_on: date
    prefecture: str
    mayor_title: str  # e.g. 花巻市長
    mayor_name: str
    city_code: str
    issue_number: int  # 発行番号
    # 発行番号 as the standard prints it on every page (jyuki-stnd 5.5): issue date, city,
    # terminal, printer, serial; the page m/n follows.  Empty: 第N号 on the last page only.
    issue_label: str = ""
    seal_title: str = ""  # the seal's words before 之印, when not the title's (a deputy's seal)


@dataclass(frozen=True)
class Certificate:
    """A certificate as printed: title, body blocks in order, certification."""

    title: str
    form_words: str  # the characters this form prints for anyone (fonts.reserve_first)
    body: tuple[Block, ...]
    certification: Certification
    marks: tuple[str, ...] = ()  # boxed words at the top of every page: 公用, 見本
