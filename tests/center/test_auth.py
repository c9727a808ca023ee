"""Card authentication at the center: a real card signs, the real authority answers OCSP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from kofu.card.element import SecureElement
from kofu.card.reader import JpkiCard, PinError
from kofu.center.domain.auth import ChallengeBook, ocsp_status, verify_response
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import Refused
from kofu.jpki.adapters.keys import FileKeyStore
from kofu.jpki.bootstrap import jpki_service
from kofu.jpki.domain.ca import Urls
from kofu.jpki.domain.revocation import RevocationCause
from kofu.jpki.services.authority import JpkiService

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=JST)
SECRET = b"s" * 32


@pytest.fixture
def world(tmp_path: Path) -> tuple[JpkiService, SecureElement]:
    """An authority and one card with a certified authentication key and PIN 1234 (per test)."""
    home = tmp_path
    engine = make_engine(f"sqlite:///{home / 'jpki.sqlite'}")
    migrate(engine, "jpki")
    service = jpki_service(
        engine, FileKeyStore(home / "keys"), Urls("http://127.0.0.1:1"), FixedClock(NOW)
    )
    element = SecureElement.blank(SECRET, card_id="C-1")
    card = JpkiCard(element)
    card.select_jpki()
    key = card.generate_key(CertKind.AUTH, SECRET)
    pair = service.issue_pair(
        city="032051",
        resident_code="00019741800",
        card_id="C-1",
        birth_date=date(1980, 4, 1),
        card_expiry=date(2036, 4, 1),
        facts=None,
        auth_key=key,
        sign_key=None,
    )
    card.write_certificate(
        CertKind.AUTH, pair.auth.public_bytes(serialization.Encoding.DER), SECRET
    )
    card.set_pin(CertKind.AUTH, "1234", SECRET)
    return service, element


def _respond(element: SecureElement, challenge: bytes, pin: str = "1234") -> tuple[bytes, bytes]:
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, pin)
    return card.read_certificate(CertKind.AUTH), card.sign(CertKind.AUTH, challenge)


def _status(service: JpkiService) -> Callable[[x509.Certificate], str]:
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    return lambda cert: ocsp_status(
        cert, issuer, lambda der: service.ocsp_response(CertKind.AUTH, der), NOW
    )


def test_a_good_card_authenticates_once(world: tuple[JpkiService, SecureElement]) -> None:
    service, element = world
    book = ChallengeBook()
    session, challenge = book.issue(NOW)
    cert, signature = _respond(element, challenge)
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    who = verify_response(
        certificate_der=cert,
        signature=signature,
        challenge=book.take(session, NOW),
        issuer=issuer,
        now=NOW,
        status_of=_status(service),
    )
    assert int(who.serial, 16) == x509.load_der_x509_certificate(cert).serial_number
    with pytest.raises(Refused) as again:
        book.take(session, NOW)  # a replayed answer finds no challenge
    assert again.value.reason == "challenge_unknown"


def test_refusals(world: tuple[JpkiService, SecureElement], tmp_path: Path) -> None:
    service, element = world
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    book = ChallengeBook()
    session, challenge = book.issue(NOW)
    with pytest.raises(Refused) as late:
        book.take(session, NOW + timedelta(minutes=3))
    assert late.value.reason == "challenge_expired"
    cert, signature = _respond(element, b"another challenge")
    with pytest.raises(Refused) as wrong:
        verify_response(
            certificate_der=cert,
            signature=signature,
            challenge=challenge,
            issuer=issuer,
            now=NOW,
            status_of=_status(service),
        )
    assert wrong.value.reason == "signature_invalid"
    cert, signature = _respond(element, challenge)
    other_issuer = service.authority.cas.issuing[CertKind.SIGN]
    with pytest.raises(Refused) as untrusted:
        verify_response(
            certificate_der=cert,
            signature=signature,
            challenge=challenge,
            issuer=other_issuer,
            now=NOW,
            status_of=_status(service),
        )
    assert untrusted.value.reason == "certificate_untrusted"
    with pytest.raises(Refused) as expired:
        verify_response(
            certificate_der=cert,
            signature=signature,
            challenge=challenge,
            issuer=issuer,
            now=NOW + timedelta(days=365 * 6),
            status_of=_status(service),
        )
    assert expired.value.reason == "certificate_expired"


def test_a_wrong_pin_never_reaches_the_center(world: tuple[JpkiService, SecureElement]) -> None:
    _, element = world
    with pytest.raises(PinError) as info:
        _respond(element, b"x" * 32, pin="9999")
    assert info.value.reason == "wrong_pin" and info.value.tries_left == 2
    _respond(element, b"x" * 32)  # a success resets the counter


def test_a_revoked_certificate_is_refused(world: tuple[JpkiService, SecureElement]) -> None:
    service, element = world
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    book = ChallengeBook()
    session, challenge = book.issue(NOW)
    cert, signature = _respond(element, challenge)
    service.revoke_card("C-1", RevocationCause.LOSS)
    with pytest.raises(Refused) as info:
        verify_response(
            certificate_der=cert,
            signature=signature,
            challenge=book.take(session, NOW),
            issuer=issuer,
            now=NOW,
            status_of=_status(service),
        )
    assert info.value.reason == "certificate_revoked"


def test_an_ocsp_answer_past_its_next_update_is_not_good(
    world: tuple[JpkiService, SecureElement],
) -> None:
    """A "good" answer signed an hour and more ago must not vouch for the card now."""
    service, element = world
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    cert = x509.load_der_x509_certificate(_respond(element, b"c" * 32)[0])
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    signed_then = service.ocsp_response(
        CertKind.AUTH, request.public_bytes(serialization.Encoding.DER)
    )

    def replay(der: bytes) -> bytes:
        return signed_then

    assert ocsp_status(cert, issuer, replay, NOW) == "good"
    assert ocsp_status(cert, issuer, replay, NOW + timedelta(hours=1, minutes=6)) == "unknown"
    assert ocsp_status(cert, issuer, replay, NOW - timedelta(hours=1)) == "unknown"


def test_a_clock_behind_tolerates_skew_and_names_not_yet_valid(
    world: tuple[JpkiService, SecureElement],
) -> None:
    """A center restarted with its clock a minute behind still takes a card issued just now."""
    service, element = world
    issuer = service.authority.cas.issuing[CertKind.AUTH]
    cert, signature = _respond(element, b"k" * 32)
    issued = x509.load_der_x509_certificate(cert).not_valid_before_utc

    def check(now: datetime, skew: timedelta = timedelta(minutes=5)) -> None:
        verify_response(
            certificate_der=cert,
            signature=signature,
            challenge=b"k" * 32,
            issuer=issuer,
            now=now,
            status_of=lambda c: ocsp_status(
                c, issuer, lambda der: service.ocsp_response(CertKind.AUTH, der), now, skew
            ),
            skew=skew,
        )

    check(issued - timedelta(minutes=1))
    for behind, skew in (
        (timedelta(minutes=10), timedelta(minutes=5)),
        (timedelta(seconds=1), timedelta(0)),
    ):
        with pytest.raises(Refused) as early:
            check(issued - behind, skew)
        assert early.value.reason == "certificate_not_yet_valid"
        assert "clock" in early.value.message and early.value.message_ja


def test_a_skew_from_the_environment_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from kofu.center.bootstrap import seconds_from_env
    from kofu.core.errors import InvalidInput

    monkeypatch.delenv("KOFU_CLOCK_SKEW", raising=False)
    assert seconds_from_env("KOFU_CLOCK_SKEW", 300) == timedelta(minutes=5)
    monkeypatch.setenv("KOFU_CLOCK_SKEW", "30")
    assert seconds_from_env("KOFU_CLOCK_SKEW", 300) == timedelta(seconds=30)
    for bad in ("-1", "soon", "1e9"):
        monkeypatch.setenv("KOFU_CLOCK_SKEW", bad)
        with pytest.raises(InvalidInput, match="KOFU_CLOCK_SKEW"):
            seconds_from_env("KOFU_CLOCK_SKEW", 300)
