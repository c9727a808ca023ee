"""Text a register keeps and a certificate prints: no control or bidirectional-override characters.

A name holding NUL, an escape sequence (ESC, the C0 and C1 controls) or a
right-to-left override (U+202E) would be stored and printed as given: a
certificate whose name reads differently from what the register compares,
or a terminal that obeys what a clerk's listing shows.  Every text field a
person or a clerk types is checked here before it reaches a register
(Unicode TR #9 names the bidirectional formatting characters refused).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from kofu.core.errors import InvalidInput

__all__ = [
    "PLAIN_PATTERN",
    "PlainText",
    "check_plain",
    "first_text",
    "first_unplain",
    "unplain_character",
]

# C0 and DEL, C1, the bidi marks and embeddings/overrides/isolates (TR #9), the line and
# paragraph separators; as escapes both Python and the OpenAPI document's readers take
_REFUSED_CLASS = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_REFUSED = re.compile(f"[{_REFUSED_CLASS}\ud800-\udfff]")  # and lone surrogates: unstorable
PLAIN_PATTERN = f"^[^{_REFUSED_CLASS}]*$"


def unplain_character(text: str) -> str | None:
    """The first refused character of ``text`` as ``U+202E (RIGHT-TO-LEFT OVERRIDE)``, or None."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name})"


def _plain(value: str) -> str:
    bad = unplain_character(value)
    if bad is not None:
        raise ValueError(f"may not contain control or bidirectional-override characters: {bad}")
    return value


PlainText = Annotated[
    str, AfterValidator(_plain), Field(json_schema_extra={"pattern": PLAIN_PATTERN})
]
"""A ``str`` field refusing what ``unplain_character`` finds (a 422 naming the field)."""


def check_plain(**fields: str | None) -> None:
    """Refuse (``InvalidInput`` naming the field) the first of ``fields`` that is not plain text."""
    for field, value in fields.items():
        bad = unplain_character(value) if value is not None else None
        if bad is not None:
            raise InvalidInput(
                f"{field} may not contain control or bidirectional-override characters: {bad}",
                field=field,
            )


def first_text(
    value: Any, bad: Callable[[str], str | None], path: str = ""
) -> tuple[str, str] | None:
    """(JSON path, what ``bad`` says) of the first text in ``value`` (keys too) it finds bad.

    The path names the field as a caller wrote it: ``records[1].name``; a bad
    key is named by the object holding it.
    """
    if isinstance(value, str):
        found = bad(value)
        return (path or "value", found) if found else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found = bad(str(key))
            if found:
                return (path or "value", found)
            items.append((f"{path}.{key}" if path else str(key), item))
    elif isinstance(value, list | tuple):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    for where, item in items:
        inner = first_text(item, bad, where)
        if inner:
            return inner
    return None


def first_unplain(value: Any) -> tuple[str, str] | None:
    """(JSON path, character) of the first text in ``value`` that is not plain."""
    return first_text(value, unplain_character)
