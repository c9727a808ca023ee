"""Past activity from a CSV a clerk prepares: one row per event, or per day and kind with a count.

The whole file is checked before anything is written; the first bad row
refuses the file, naming its line and field (all or none).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from kofu.city.domain.activity import JST, Activity, ActivityKind, Origin
from kofu.core.errors import InvalidInput

__all__ = ["COLUMNS", "MAX_ROWS", "parse_history"]

COLUMNS = (
    "occurred_at",
    "kind",
    "count",
    "channel",
    "doc_type",
    "role",
    "cause",
    "copies",
    "fee_yen",
    "programme",
)
REQUIRED = ("occurred_at", "kind")
MAX_ROWS = 2_000_000
MAX_COUNT = 10_000_000
_STAFF_ONLY = (
    ActivityKind.FINANCE,
)  # amounts need their fiscal year and stage: kofu activity record


def _bad(line: int, field: str, why: str) -> InvalidInput:
    return InvalidInput(f"line {line}, {field}: {why}", field=field)


def _instant(text: str, line: int) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), JST)
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise _bad(line, "occurred_at", f"not an ISO date or date-time: {text!r}") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def _integer(text: str, line: int, field: str, default: int) -> int:
    if text == "":
        return default
    if not text.isdigit():
        raise _bad(line, field, f"a whole number of at least 0, not {text!r}")
    value = int(text)
    if value > MAX_COUNT:
        raise _bad(line, field, f"at most {MAX_COUNT:,}")
    return value


def parse_history(text: str) -> list[Activity]:
    """Every row as an imported Activity, or InvalidInput naming the first bad line and field."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise _bad(1, unknown[0], f"unknown column; the columns are {', '.join(COLUMNS)}")
    for name in REQUIRED:
        if name not in header:
            raise _bad(1, name, "missing column")
    out: list[Activity] = []
    for number, row in enumerate(reader, start=2):
        if len(out) >= MAX_ROWS:
            raise _bad(number, "occurred_at", f"at most {MAX_ROWS:,} rows in one file")
        if None in row:
            raise _bad(number, "row", "more fields than the header names")
        out.append(_activity(row, number))
    if not out:
        raise _bad(2, "row", "the file has no rows")
    return out


def _activity(row: dict[str, str], line: int) -> Activity:
    values = {k: (v or "").strip() for k, v in row.items()}
    try:
        kind = ActivityKind(values["kind"])
    except ValueError as exc:
        raise _bad(line, "kind", f"unknown event type {values['kind']!r}") from exc
    if kind in _STAFF_ONLY:
        raise _bad(line, "kind", "amounts are recorded with kofu activity record --kind finance")
    if not values["occurred_at"]:
        raise _bad(line, "occurred_at", "empty")
    at = _instant(values["occurred_at"], line)
    count = _integer(values.get("count", ""), line, "count", 1)
    default_copies = count if kind is ActivityKind.CERTIFICATE_ISSUED else 0
    copies = _integer(values.get("copies", ""), line, "copies", default_copies)
    fee = _integer(values.get("fee_yen", ""), line, "fee_yen", 0)
    if kind is ActivityKind.COMPLAINT and not values.get("cause"):
        raise _bad(line, "cause", "a complaint names its cause (issuance_error, waiting, …)")
    try:
        return Activity(
            kind=kind,
            occurred_at=at,
            count=count,
            channel=values.get("channel", ""),
            doc_type=values.get("doc_type", ""),
            role=values.get("role", ""),
            cause=values.get("cause", ""),
            copies=copies,
            fee_yen=fee,
            programme=values.get("programme", ""),
            origin=Origin.IMPORT,
        )
    except InvalidInput as exc:
        raise _bad(line, exc.field or "row", exc.message) from exc
