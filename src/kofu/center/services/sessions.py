"""Opening, authenticating and spending sessions, shared by every worker through the store.

Taking a challenge is one move of the session book (DELETE … RETURNING on
SQL), so two workers can never both accept an answer to the same challenge.
Spending an authenticated session on a request is one conditional move, so
a session serves one request (and its retries) and never a second one, on
any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from kofu.center.domain.auth import (
    CLOCK_SKEW,
    Authenticated,
    ChallengeBook,
    check_status,
    check_validity,
    other_kiosk,
    verify_response,
)
from kofu.center.domain.issuance import Alarm
from kofu.center.domain.ports import UnitsOfWork
from kofu.center.domain.sessions import (
    ATTEMPTS,
    FAILURE_WINDOW,
    MAX_FAILURES,
    SESSION_LIFE,
    session_unknown,
    session_used,
    sign_in_alarm_detail,
    sign_in_suspended,
)
from kofu.core.clock import Clock
from kofu.core.errors import NotFound, Refused

__all__ = ["SESSION_LIFE", "SessionDesk", "StoredChallenges"]


class StoredChallenges:
    """The book's challenges in the store, each put and taken in a unit of work of its own."""

    def __init__(self, units: UnitsOfWork) -> None:
        self.units = units

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None:
        with self.units() as uow:
            uow.sessions.put(session, challenge, expires, kiosk)
            uow.commit()

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        with self.units() as uow:
            entry = uow.sessions.pop(session)
            uow.commit()
        return entry


class SessionDesk:
    """Opening, authenticating and spending sessions: the rules over the session book.

    ``status_of(cert, fresh)`` asks the authority; ``fresh`` skips any kept answer.
    """

    def __init__(
        self,
        units: UnitsOfWork,
        clock: Clock,
        issuer: x509.Certificate,
        status_of: Callable[[x509.Certificate, bool], str],
        skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.units, self.clock, self.issuer, self.status_of = units, clock, issuer, status_of
        self.skew = skew
        self.book = ChallengeBook(StoredChallenges(units))

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
            if refusal.reason in ATTEMPTS:
                self._count_failure(certificate_der, refusal.reason, now)
            raise
        since = now - FAILURE_WINDOW
        with self.units() as uow:  # the count and the binding in one transaction
            failures = uow.sessions.failures_since(who.serial, since, since + SESSION_LIFE)
            if failures < MAX_FAILURES:
                uow.sessions.bind(session, who, now + SESSION_LIFE, kiosk, certificate_der)
                uow.commit()
        if failures >= MAX_FAILURES:
            self._alarm(who.serial, failures, kiosk, now)
            raise sign_in_suspended(failures)
        return who

    def spend(self, session: str, kiosk: str, request_id: str) -> Authenticated:
        """The session's card, the session spent on ``request_id``, its status asked afresh.

        One session serves one request (a retry of it too) from the kiosk
        that opened it; the certificate's status is asked at this moment, so
        a card reported lost after signing in is refused here.
        """
        with self.units() as uow:  # read and spent in one transaction; the UPDATE decides
            entry = uow.sessions.subject(session)
            if entry is None or entry.ended or self.clock.now() >= entry.expires:
                raise session_unknown()
            if entry.kiosk != kiosk:
                raise other_kiosk()
            spent = uow.sessions.spend(session, request_id)
            uow.commit()
        if not spent:
            raise session_used(entry.request_id)
        if entry.certificate is not None:
            cert = x509.load_der_x509_certificate(entry.certificate)
            check_validity(cert, self.clock.now(), self.skew)
            check_status(self.status_of(cert, True))
        return entry.who

    def end(self, session: str, kiosk: str) -> None:
        """The resident left (中止, idle): the session is never used again. Idempotent.

        Only the kiosk that opened the session ends it; an ended session left
        unspent still counts as an abandoned sign-in of its card.
        """
        with self.units() as uow:
            entry = uow.sessions.subject(session)
        if entry is None:
            raise NotFound(f"no signed-in session {session}", field="session")
        if entry.kiosk != kiosk:
            raise other_kiosk()
        with self.units() as uow:
            uow.sessions.end(session, kiosk)
            uow.commit()

    def forget_old(self) -> int:
        """Ended sessions and failures older than the window leave the store (the sweep)."""
        now = self.clock.now()
        with self.units() as uow:
            gone = uow.sessions.forget(now, now - FAILURE_WINDOW)
            uow.commit()
        return gone

    def _count_failure(self, certificate_der: bytes, reason: str, now: datetime) -> None:
        """Count it against the card, if the certificate is one the authority really issued."""
        try:
            cert = x509.load_der_x509_certificate(certificate_der)
            cert.verify_directly_issued_by(self.issuer)
        except (ValueError, TypeError, InvalidSignature):
            return
        with self.units() as uow:
            uow.sessions.failed(f"{cert.serial_number:x}", reason, now)
            uow.commit()

    def _alarm(self, serial: str, failures: int, kiosk: str, now: datetime) -> None:
        """An alarm for the operator; it names no city, so no city's issuance stops."""
        detail = sign_in_alarm_detail(serial, failures, kiosk)
        with self.units() as uow:
            uow.alarms.raise_alarm(Alarm(now, "", "sign_in_failures", detail))
            uow.commit()
