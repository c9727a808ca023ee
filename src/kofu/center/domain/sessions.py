"""A session's rules: its life, one request per session, and when a card's sign-ins are suspended.

A session belongs to the kiosk that opened it and is spent on one request
(and its retries).  A run of failed or abandoned sign-ins of one card within
a window looks like someone working at a stolen card's certificate: the next
sign-in is refused and the operator alarmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kofu.center.domain.auth import Authenticated
from kofu.core.errors import Refused

__all__ = [
    "ATTEMPTS",
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "SESSION_LIFE",
    "SessionEntry",
    "session_unknown",
    "session_used",
    "sign_in_alarm_detail",
    "sign_in_suspended",
]

SESSION_LIFE = timedelta(minutes=10)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # failed or abandoned sign-ins of one card in the window before one is refused
# What a failed answer tells of the one who gave it; the card's own state (revoked, expired) is
# not an attempt at it and is not counted.
ATTEMPTS = frozenset(
    {"signature_invalid", "challenge_expired", "challenge_unknown", "session_other_kiosk"}
)


@dataclass(frozen=True)
class SessionEntry:
    """An authenticated session as stored: whose, until when, from which kiosk, spent on what."""

    who: Authenticated
    expires: datetime
    kiosk: str
    request_id: str | None
    certificate: bytes | None
    ended: bool = False  # its kiosk ended it (中止, idle): it is never spent again


def session_unknown() -> Refused:
    return Refused(
        "session_unknown",
        "the session is not authenticated or has ended",
        message_ja="もう一度カードを置いて、最初からやり直してください。",
    )


def session_used(request_id: str | None) -> Refused:
    return Refused(
        "session_used",
        f"the session was already used for request {request_id}; sign in again",
        message_ja="もう一度カードを置いて、暗証番号を入力してください。",
    )


def sign_in_suspended(failures: int) -> Refused:
    return Refused(
        "sign_in_suspended",
        f"{failures} failed or abandoned sign-ins of this card in the last "
        f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes; store sign-in is suspended",
        message_ja="このカードは現在ご利用いただけません。市区町村の窓口にお問い合わせください。",
    )


def sign_in_alarm_detail(serial: str, failures: int, kiosk: str) -> str:
    return (
        f"card certificate {serial}: signed in at kiosk {kiosk or '-'} after "
        f"{failures} failed or abandoned sign-ins within {FAILURE_WINDOW}; refused"
    )
