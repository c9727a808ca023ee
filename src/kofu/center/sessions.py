"""Sessions and their challenges in the center's store, shared by every worker.

Taking a challenge is one DELETE … RETURNING, so two workers can never
both accept an answer to the same challenge.  Spending an authenticated
session on a request is one conditional UPDATE, so a session serves one
request (and its retries) and never a second one, on any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from sqlalchemy import Engine, and_, bindparam, delete, func, insert, or_, select, update

from kofu.center import tables as t
from kofu.center.auth import (
    CLOCK_SKEW,
    Authenticated,
    ChallengeBook,
    check_status,
    check_validity,
    other_kiosk,
    verify_response,
)
from kofu.core.clock import Clock
from kofu.core.errors import Refused

__all__ = ["SESSION_LIFE", "SessionDesk", "SessionEntry", "SqlSessions"]

SESSION_LIFE = timedelta(minutes=10)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5  # failed or abandoned sign-ins of one card in the window before one is refused
# What a failed answer tells of the one who gave it; the card's own state (revoked, expired) is
# not an attempt at it and is not counted.
_ATTEMPTS = {"signature_invalid", "challenge_expired", "challenge_unknown", "session_other_kiosk"}


# Built once: SQLAlchemy then reuses each compiled form instead of building and
# caching the statement anew on every request (a third of a statement's cost).
_s = t.sessions
_PUT = insert(_s)
_POP = (
    delete(_s)
    .where(_s.c.session == bindparam("b_session"), _s.c.challenge.is_not(None))
    .returning(_s.c.challenge, _s.c.challenge_expires, _s.c.kiosk)
)
_SUBJECT = select(_s).where(_s.c.session == bindparam("b_session"))
_SPEND = (
    update(_s)
    .where(
        _s.c.session == bindparam("b_session"),
        _s.c.auth_serial.is_not(None),
        or_(_s.c.request_id.is_(None), _s.c.request_id == bindparam("b_request_id")),
    )
    .values(request_id=bindparam("b_request_id"))
)
_f = t.sign_in_failures
_FAILED = insert(_f)
_FAILURES = (
    select(func.count())
    .select_from(_f)
    .where(and_(_f.c.auth_serial == bindparam("b_serial"), _f.c.at >= bindparam("b_since")))
)
_ABANDONED = (  # signed in, never spent on a request: opened within the window (expires − life)
    select(func.count())
    .select_from(_s)
    .where(
        _s.c.auth_serial == bindparam("b_serial"),
        _s.c.request_id.is_(None),
        _s.c.expires >= bindparam("b_opened_since"),
    )
)


_BOTH = select(_FAILURES.scalar_subquery(), _ABANDONED.scalar_subquery())


@dataclass(frozen=True)
class SessionEntry:
    """An authenticated session as stored: whose, until when, from which kiosk, spent on what."""

    who: Authenticated
    expires: datetime
    kiosk: str
    request_id: str | None
    certificate: bytes | None


class SqlSessions:
    """A ChallengeStore plus the authenticated subject of each session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _PUT,
                {
                    "session": session,
                    "challenge": challenge,
                    "challenge_expires": expires,
                    "kiosk": kiosk,
                },
            )

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        """Delete the open challenge and return it: one statement, so only one worker gets it."""
        with self.engine.begin() as conn:
            row = conn.execute(_POP, {"b_session": session}).first()
        return None if row is None else (bytes(row[0]), row[1], str(row[2] or ""))

    def bind(
        self,
        session: str,
        who: Authenticated,
        expires: datetime,
        kiosk: str = "",
        certificate: bytes | None = None,
    ) -> None:
        """The session is now the card's: its subject for the next steps, on any worker."""
        with self.engine.begin() as conn:
            conn.execute(
                _PUT,
                {
                    "session": session,
                    "challenge": None,
                    "challenge_expires": expires,
                    "auth_serial": who.serial,
                    "not_after": who.not_after,
                    "expires": expires,
                    "kiosk": kiosk,
                    "certificate": certificate,
                },
            )

    def subject(self, session: str) -> SessionEntry | None:
        with self.engine.connect() as conn:
            row = conn.execute(_SUBJECT, {"b_session": session}).first()
        if row is None or row.auth_serial is None or row.expires is None:
            return None
        return SessionEntry(
            Authenticated(row.auth_serial, row.not_after),
            row.expires,
            str(row.kiosk or ""),
            row.request_id,
            None if row.certificate is None else bytes(row.certificate),
        )

    def spend(self, session: str, request_id: str) -> bool:
        """Spend the session on ``request_id``; False if it was spent on another one already."""
        with self.engine.begin() as conn:
            done = conn.execute(_SPEND, {"b_session": session, "b_request_id": request_id})
        return bool(done.rowcount)

    def failed(self, serial: str, reason: str, at: datetime) -> None:
        """Keep a failed sign-in of the card whose certificate came with it."""
        with self.engine.begin() as conn:
            conn.execute(_FAILED, {"at": at, "auth_serial": serial, "reason": reason})

    def forget(self, sessions_before: datetime, failures_before: datetime) -> int:
        """Drop sessions past their life and failures past the window; how many rows went."""
        ended = or_(
            _s.c.expires < sessions_before,
            and_(_s.c.expires.is_(None), _s.c.challenge_expires < sessions_before),
        )
        with self.engine.begin() as conn:
            gone = conn.execute(delete(_s).where(ended)).rowcount or 0
            gone += conn.execute(delete(_f).where(_f.c.at < failures_before)).rowcount or 0
        return int(gone)

    def failures_since(self, serial: str, since: datetime) -> int:
        """Failed answers of the card since then, and its sessions signed in but never used."""
        with self.engine.connect() as conn:  # both counts in one statement: one round trip
            window = {"b_serial": serial, "b_since": since, "b_opened_since": since + SESSION_LIFE}
            failed, abandoned = conn.execute(_BOTH, window).one()
        return int(failed) + int(abandoned)


class SessionDesk:
    """Opening, authenticating and spending sessions: the rules, over ``SqlSessions``.

    ``status_of(cert, fresh)`` asks the authority; ``fresh`` skips any kept answer.
    """

    def __init__(
        self,
        store: SqlSessions,
        clock: Clock,
        issuer: x509.Certificate,
        status_of: Callable[[x509.Certificate, bool], str],
        skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.store, self.clock, self.issuer, self.status_of = store, clock, issuer, status_of
        self.skew = skew
        self.book = ChallengeBook(store)

    def open(self, kiosk: str = "") -> tuple[str, bytes]:
        return self.book.issue(self.clock.now(), kiosk)

    def authenticate(
        self, session: str, certificate_der: bytes, signature: bytes, kiosk: str = ""
    ) -> Authenticated:
        """Check the card's answer; a card after a run of failed answers is refused, alarmed."""
        now = self.clock.now()
        try:
            who = verify_response(
                certificate_der=certificate_der,
                signature=signature,
                challenge=self.book.take(session, now, kiosk),
                issuer=self.issuer,
                now=now,
                status_of=lambda cert: self.status_of(cert, False),
                skew=self.skew,
            )
        except Refused as refusal:
            if refusal.reason in _ATTEMPTS:
                self._count_failure(certificate_der, refusal.reason, now)
            raise
        failures = self.store.failures_since(who.serial, now - FAILURE_WINDOW)
        if failures >= MAX_FAILURES:
            self._alarm(who.serial, failures, kiosk, now)
            raise Refused(
                "sign_in_suspended",
                f"{failures} failed or abandoned sign-ins of this card in the last "
                f"{int(FAILURE_WINDOW.total_seconds() // 60)} minutes; store sign-in is suspended",
                message_ja="このカードは現在ご利用いただけません。市区町村の窓口にお問い合わせください。",
            )
        self.store.bind(session, who, now + SESSION_LIFE, kiosk, certificate_der)
        return who

    def spend(self, session: str, kiosk: str, request_id: str) -> Authenticated:
        """The session's card, the session spent on ``request_id``, its status asked afresh.

        One session serves one request (a retry of it too) from the kiosk
        that opened it; the certificate's status is asked at this moment, so
        a card reported lost after signing in is refused here.
        """
        entry = self.store.subject(session)
        if entry is None or self.clock.now() >= entry.expires:
            raise Refused(
                "session_unknown",
                "the session is not authenticated or has ended",
                message_ja="もう一度カードを置いて、最初からやり直してください。",
            )
        if entry.kiosk != kiosk:
            raise other_kiosk()
        if not self.store.spend(session, request_id):
            raise Refused(
                "session_used",
                f"the session was already used for request {entry.request_id}; sign in again",
                message_ja="もう一度カードを置いて、暗証番号を入力してください。",
            )
        if entry.certificate is not None:
            cert = x509.load_der_x509_certificate(entry.certificate)
            check_validity(cert, self.clock.now(), self.skew)
            check_status(self.status_of(cert, True))
        return entry.who

    def forget_old(self) -> int:
        """Ended sessions and failures older than the window leave the store (the sweep)."""
        now = self.clock.now()
        return self.store.forget(now, now - FAILURE_WINDOW)

    def _count_failure(self, certificate_der: bytes, reason: str, now: datetime) -> None:
        """Count it against the card, if the certificate is one the authority really issued."""
        try:
            cert = x509.load_der_x509_certificate(certificate_der)
            cert.verify_directly_issued_by(self.issuer)
        except (ValueError, TypeError, InvalidSignature):
            return
        self.store.failed(f"{cert.serial_number:x}", reason, now)

    def _alarm(self, serial: str, failures: int, kiosk: str, now: datetime) -> None:
        """An alarm for the operator; it names no city, so no city's issuance stops."""
        with self.store.engine.begin() as conn:
            conn.execute(
                insert(t.alarms).values(
                    at=now,
                    city="",
                    kind="sign_in_failures",
                    detail=f"card certificate {serial}: signed in at kiosk {kiosk or '-'} after "
                    f"{failures} failed or abandoned sign-ins within {FAILURE_WINDOW}; refused",
                )
            )
