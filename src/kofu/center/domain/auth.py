"""Authenticating a card at the issuance center by challenge and response.

The center hands the kiosk a one-time challenge with a short life; the card
signs it with its user-authentication key after its own PIN check; the
center checks the certificate chain to the authority's authentication CA,
the validity period, the signature over the challenge, the challenge's
freshness and single use, and the certificate's revocation status (OCSP,
answered within its freshness window).  Only then is the card's serial the
authenticated subject of the session.

A session belongs to the kiosk that opened it (the name on its network
certificate) and is spent on one request.  Two services' clocks are never
quite the same: validity periods and OCSP times are read with a configured
tolerance (KOFU_CLOCK_SKEW, read by the bootstrap), and a certificate not valid *yet* is named so,
never called expired.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kofu.core.errors import InvalidInput, Refused

__all__ = [
    "CLOCK_SKEW",
    "Authenticated",
    "ChallengeBook",
    "ChallengeStore",
    "MemoryChallenges",
    "check_status",
    "check_validity",
    "ocsp_answer",
    "ocsp_status",
    "other_kiosk",
    "verify_response",
]

CHALLENGE_LIFE = timedelta(seconds=120)
CLOCK_SKEW = timedelta(seconds=300)  # how far two services' clocks may differ (KOFU_CLOCK_SKEW)


def _refuse(reason: str, message: str, ja: str) -> Refused:
    return Refused(reason, message, message_ja=ja)


@dataclass(frozen=True)
class Authenticated:
    """The subject of a session: whose authentication certificate signed in."""

    serial: str  # hex, lower case
    not_after: datetime


class ChallengeStore(Protocol):
    """Where open challenges live; ``pop`` hands a challenge out at most once, across workers.

    ``kiosk`` is the network name of the kiosk that opened the session ("" without mutual TLS).
    """

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None: ...

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None: ...


class MemoryChallenges:
    """Challenges of a single process (tests, one worker)."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[bytes, datetime, str]] = {}
        self._lock = threading.Lock()

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None:
        with self._lock:
            self._open[session] = (challenge, expires, kiosk)

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        with self._lock:
            return self._open.pop(session, None)


def other_kiosk() -> Refused:
    """A session (or print job) used from another kiosk than the one that opened it."""
    return _refuse(
        "session_other_kiosk",
        "this session or print job belongs to another kiosk",
        "この端末では続けられません。もう一度カードを置いて、最初からやり直してください。",
    )


class ChallengeBook:
    """One-time challenges: issued, then taken back exactly once within their life."""

    def __init__(self, store: ChallengeStore | None = None) -> None:
        self.store = store or MemoryChallenges()

    def issue(self, now: datetime, kiosk: str = "") -> tuple[str, bytes]:
        session = secrets.token_urlsafe(18)
        challenge = secrets.token_bytes(32)
        self.store.put(session, challenge, now + CHALLENGE_LIFE, kiosk)
        return session, challenge

    def take(self, session: str, now: datetime, kiosk: str = "") -> bytes:
        """The session's challenge, removed so that it can never be answered twice.

        Only the kiosk that opened the session may answer it; another kiosk's
        answer spends the challenge all the same, so it is never tried twice.
        """
        entry = self.store.pop(session)
        if entry is None:
            raise _refuse(
                "challenge_unknown",
                "the session is unknown or its challenge was already used",
                "もう一度カードを置いて、最初からやり直してください。",
            )
        challenge, expires, opened_by = entry
        if opened_by != kiosk:
            raise other_kiosk()
        if now >= expires:
            raise _refuse(
                "challenge_expired",
                "the challenge expired; start again",
                "時間が経過しました。最初からやり直してください。",
            )
        return challenge


def verify_response(
    *,
    certificate_der: bytes,
    signature: bytes,
    challenge: bytes,
    issuer: x509.Certificate,
    now: datetime,
    status_of: Callable[[x509.Certificate], str],
    skew: timedelta = CLOCK_SKEW,
) -> Authenticated:
    """Check chain, validity, signature and revocation; ``status_of`` asks OCSP."""
    try:
        cert = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise InvalidInput("the card's certificate is not DER X.509", field="certificate") from exc
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _refuse(
            "certificate_untrusted",
            "the certificate was not issued by the JPKI authentication CA",
            "このカードの電子証明書は利用できません。",
        ) from exc
    check_validity(cert, now, skew)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse(
            "certificate_untrusted",
            "the certificate's key is not RSA",
            "このカードは利用できません。",
        )
    try:
        key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise _refuse(
            "signature_invalid",
            "the card's signature over the challenge does not verify",
            "カードの読み取りに失敗しました。もう一度お試しください。",
        ) from exc
    check_status(status_of(cert))
    return Authenticated(serial=f"{cert.serial_number:x}", not_after=cert.not_valid_after_utc)


def check_validity(cert: x509.Certificate, now: datetime, skew: timedelta = CLOCK_SKEW) -> None:
    """Within the validity period, give or take ``skew``; "not yet valid" is not "expired".

    A service whose clock is behind would otherwise call a card issued a
    minute ago expired and send the resident to renew a new certificate.
    """
    if now + skew < cert.not_valid_before_utc:
        raise _refuse(
            "certificate_not_yet_valid",
            f"the user-authentication certificate is valid only from "
            f"{cert.not_valid_before_utc.isoformat()}; this service's clock says "
            f"{now.isoformat()} (check the clock)",
            "電子証明書をまだ確認できません。しばらくしてからお試しいただくか、係員にお知らせください。",
        )
    if now - skew > cert.not_valid_after_utc:
        raise _refuse(
            "certificate_expired",
            "the user-authentication certificate has expired",
            "利用者証明用電子証明書の有効期限が切れています。市区町村の窓口で更新してください。",
        )


def check_status(status: str) -> None:
    """Refuse unless OCSP said good: revoked (a lost card) and unknown are told apart."""
    if status == "good":
        return
    if status == "revoked":
        raise _refuse(
            "certificate_revoked",
            "the certificate's status is revoked",
            "利用者証明用電子証明書が失効しています。市区町村の窓口にお問い合わせください。",
        )
    raise _refuse(
        "certificate_unknown",
        f"the certificate's status is {status}",
        "電子証明書の状態を確認できません。しばらくしてからお試しください。",
    )


def ocsp_status(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    ask: Callable[[bytes], bytes],
    now: datetime,
    skew: timedelta = CLOCK_SKEW,
) -> str:
    """good, revoked or unknown, from a signed OCSP answer (RFC 6960) checked against the issuer."""
    return ocsp_answer(cert, issuer, ask, now, skew)[0]


def ocsp_answer(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    ask: Callable[[bytes], bytes],
    now: datetime,
    skew: timedelta = CLOCK_SKEW,
) -> tuple[str, datetime | None]:
    """The status and how long the signed answer stays fresh (its next update).

    An answer signed for a time still to come, or past its next update, is
    "unknown": a replayed old "good" must not outlive a revocation.
    """
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    try:
        response = ocsp.load_der_ocsp_response(ask(request.public_bytes(Encoding.DER)))
    except ValueError:  # not an OCSP answer at all: nothing says the card is good
        return "unknown", None
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return "unknown", None
    public = issuer.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    try:
        public.verify(
            response.signature,
            response.tbs_response_bytes,
            padding.PKCS1v15(),
            response.signature_hash_algorithm or hashes.SHA256(),
        )
    except InvalidSignature:
        return "unknown", None
    if response.serial_number != cert.serial_number:
        return "unknown", None
    next_update = response.next_update_utc  # both read with the clocks' tolerance (RFC 6960)
    if response.this_update_utc > now + skew or (
        next_update is not None and next_update < now - skew
    ):
        return "unknown", None
    status = {
        ocsp.OCSPCertStatus.GOOD: "good",
        ocsp.OCSPCertStatus.REVOKED: "revoked",
    }.get(response.certificate_status, "unknown")
    return status, next_update
