"""Keys made on the card, signatures that verify against the certificate, and the client."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from kofu.card.element import SecureElement
from kofu.card.jpki_ap import SHA256_DIGEST_INFO_PREFIX
from kofu.card.reader import CardError, CardReader, JpkiCard
from kofu.core.certkinds import CertKind
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused

MESSAGE = "転入届 2026-11-23 深谷市".encode()


class RecordingReader:
    """A reader that passes APDUs to a card and keeps a log, as a PC/SC trace would."""

    def __init__(self, card: CardReader) -> None:
        self.card = card
        self.log: list[bytes] = []

    def transmit(self, command: bytes) -> bytes:
        self.log.append(command)
        return self.card.transmit(command)

    def reset(self) -> None:
        self.card.reset()


class ScriptedReader:
    """A reader whose card answers every command with the same status word."""

    def __init__(self, sw: int) -> None:
        self.sw = sw

    def transmit(self, command: bytes) -> bytes:
        return self.sw.to_bytes(2, "big")

    def reset(self) -> None:
        pass


def public_key_of(der: bytes) -> rsa.RSAPublicKey:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@pytest.mark.parametrize("kind", list(CertKind))
def test_signature_verifies_with_the_certificates_key(
    issued: SecureElement, kit, kind: CertKind
) -> None:
    card = JpkiCard(issued)
    card.verify_pin(kind, kit.pin(kind))
    certificate = card.read_certificate(kind)
    signature = card.sign(kind, MESSAGE)
    public_key_of(certificate).verify(signature, MESSAGE, PKCS1v15(), SHA256())


def test_the_two_keys_differ(issued: SecureElement, kit) -> None:
    card = JpkiCard(issued)
    card.verify_pin("sign", kit.sign_password)
    keys = [public_key_of(card.read_certificate(kind)).public_numbers() for kind in CertKind]
    assert keys[0] != keys[1]


def test_the_digest_info_is_made_on_the_host(issued: SecureElement, kit) -> None:
    reader = RecordingReader(issued)
    card = JpkiCard(reader)
    card.verify_pin("auth", kit.auth_pin)
    card.sign("auth", MESSAGE)
    digest_info = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(MESSAGE).digest()
    assert reader.log[-1] == bytes.fromhex("802A008033") + digest_info + b"\x00"
    assert all(MESSAGE not in apdu for apdu in reader.log)


def test_signing_is_refused_without_the_pin_and_after_a_reset(issued: SecureElement, kit) -> None:
    card = JpkiCard(issued)
    with pytest.raises(Refused) as refused:
        card.sign("sign", MESSAGE)
    assert refused.value.reason == "pin_not_verified"
    card.verify_pin("sign", kit.sign_password)
    card.sign("sign", MESSAGE)
    issued.reset()
    with pytest.raises(Refused, match="verified first"):
        card.sign("sign", MESSAGE)


def test_reading_the_sign_certificate_needs_the_password(issued: SecureElement, kit) -> None:
    card = JpkiCard(issued)
    assert card.read_certificate("auth")[:1] == b"\x30"  # freely readable
    with pytest.raises(Refused, match="signature password"):
        card.read_certificate("sign")
    card.verify_pin("sign", kit.sign_password)
    x509.load_der_x509_certificate(card.read_certificate("sign"))


def test_a_card_without_keys_or_certificates(personalised: SecureElement, kit) -> None:
    card = JpkiCard(personalised)
    with pytest.raises(NotFound, match="no auth certificate"):
        card.read_certificate("auth")
    card.verify_pin("auth", kit.auth_pin)
    with pytest.raises(Conflict, match="no auth key"):
        card.sign("auth", MESSAGE)


def test_write_certificate_checks_and_replaces(
    issued: SecureElement, kit, make_certificate
) -> None:
    card = JpkiCard(issued)
    with pytest.raises(InvalidInput, match=r"X\.509"):
        card.write_certificate("auth", b"\x30\x03\x02\x01\x00", kit.issuer_secret)
    old = card.read_certificate("auth")
    replacement = make_certificate(public_key_of(old), CertKind.AUTH)
    card.write_certificate("auth", replacement, kit.issuer_secret)
    assert card.read_certificate("auth") == replacement
    with pytest.raises(Refused, match="issuer key"):
        card.write_certificate("auth", old, b"not-the-issuer-secret!")


def test_a_card_without_the_jpki_application() -> None:
    with pytest.raises(NotFound, match="no JPKI application"):
        JpkiCard(ScriptedReader(0x6A82)).select_jpki()


def test_unexpected_status_words_become_card_errors() -> None:
    with pytest.raises(CardError) as caught:
        JpkiCard(ScriptedReader(0x6F00)).read_certificate("auth")
    assert caught.value.sw == 0x6F00
    assert "6F00" in caught.value.message
