"""Resuming a city's issuance after an alarm (交付再開): only a supervisor, and never silently.

An alarm naming a city stops that city's issuance.  Once the operator has
looked into it, a supervisor resumes the city: who (the name on the
supervisor's network certificate), when, which city and why are kept in an
append-only record.  A resume answers the alarms raised before it; an alarm
raised after it stops the city again.  Operator certificates are named
``operator`` or ``operator-…``; a supervisor's are ``operator-supervisor``
or ``operator-supervisor-…`` (still operators: they read everything an
operator reads), which only whoever keeps the network CA can make.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused

__all__ = [
    "MAX_REASON",
    "SUPERVISOR",
    "Resume",
    "check_resume",
    "is_supervisor",
    "not_a_supervisor",
    "not_stopped",
    "resumed_otherwise",
    "unknown_city",
]

SUPERVISOR = "operator-supervisor"  # the role's certificate name, and the prefix of its people's
MAX_REASON = 500
_CITY = re.compile(r"[0-9]{6}")


@dataclass(frozen=True)
class Resume:
    """One resume of a city's issuance, as kept (never changed, never removed)."""

    request_id: str  # the caller's key: the same request again is the same resume
    at: datetime
    city: str
    operator: str  # the supervisor's network certificate name ("" without mutual TLS)
    reason: str


def is_supervisor(name: str | None) -> bool:
    """Whether a caller's network name is a supervisor's (None: no mutual TLS, no name to check)."""
    return name is None or name == SUPERVISOR or name.startswith(f"{SUPERVISOR}-")


def not_a_supervisor(name: str) -> Refused:
    return Refused(
        "caller_not_allowed",
        f"only supervisor certificates ({SUPERVISOR}, {SUPERVISOR}-...) may resume a city; "
        f"this one is {name}'s",
        message_ja="交付の再開は監督者の証明書でのみ行えます。",
    )


def check_resume(request_id: str, city: str, reason: str) -> str:
    """The reason as kept (trimmed); a request out of shape is 422 naming its field."""
    if not request_id or len(request_id) > 64:
        raise InvalidInput("request_id is 1 to 64 characters", field="request_id")
    if not _CITY.fullmatch(city):
        raise InvalidInput(f"city is a six-digit city code, not {city!r}", field="city")
    kept = reason.strip()
    if not kept:
        raise InvalidInput("a resume needs its reason", field="reason")
    if len(kept) > MAX_REASON:
        raise InvalidInput(f"reason is at most {MAX_REASON} characters", field="reason")
    return kept


def resumed_otherwise(resume: Resume) -> Conflict:
    """A request id used again for another city or reason."""
    return Conflict(
        f"request id {resume.request_id} resumed city {resume.city}; "
        "a new resume needs a new request id",
        field="request_id",
    )


def unknown_city(city: str) -> NotFound:
    return NotFound(f"no city {city} is known to the center", field="city")


def not_stopped(city: str) -> Conflict:
    return Conflict(f"issuance for {city} is not stopped: nothing to resume", field="city")
