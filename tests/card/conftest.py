"""Fixtures for the card tests: one issued card made once, loaded fresh for every test.

RSA-2048 key generation costs about 0.1 s a key, so the card with both keys,
both PINs and both certificates is issued once per session and saved; each test
that needs it loads its own copy from that file (cheap: AES-GCM and two DER keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from kofu.card.element import SecureElement
from kofu.card.reader import JpkiCard
from kofu.card.storage import load_card, save_card
from kofu.core.certkinds import CertKind


@dataclass(frozen=True)
class CardKit:
    """The secrets and values the tests issue cards with."""

    issuer_secret: bytes = b"fukaya-card-desk-issuer-secret-1"
    master_key: bytes = bytes(range(32))
    auth_pin: str = "8361"
    sign_password: str = "KOFU2026SIGN"
    card_id: str = "TESTCARD-0001"
    expires_on: date = date(2036, 5, 1)

    def pin(self, kind: CertKind | str) -> str:
        return self.auth_pin if CertKind(kind) is CertKind.AUTH else self.sign_password


def _certificate(public_key: rsa.RSAPublicKey, kind: CertKind) -> bytes:
    """A certificate for the card's key, signed by a throwaway P-256 test CA (fast to make)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime(2026, 11, 23, tzinfo=UTC)
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kofu test CA")])
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"card holder ({kind})")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365 * 5))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


@pytest.fixture(scope="session")
def kit() -> CardKit:
    return CardKit()


@pytest.fixture(scope="session")
def make_certificate() -> Callable[[rsa.RSAPublicKey, CertKind], bytes]:
    return _certificate


@pytest.fixture(scope="session")
def issued_file(kit: CardKit, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The saved bytes of a fully issued card: PINs set, keys generated, certificates written."""
    element = SecureElement.blank(kit.issuer_secret, card_id=kit.card_id, expires_on=kit.expires_on)
    card = JpkiCard(element)
    for kind in CertKind:
        card.set_pin(kind, kit.pin(kind), kit.issuer_secret)
        public_key = card.generate_key(kind, kit.issuer_secret)
        card.write_certificate(kind, _certificate(public_key, kind), kit.issuer_secret)
    path = tmp_path_factory.mktemp("issued") / "card.json"
    save_card(element, path, kit.master_key)
    return path.read_bytes()


@pytest.fixture
def card_path(issued_file: bytes, tmp_path: Path) -> Path:
    """This test's own copy of the issued card file."""
    path = tmp_path / "card.json"
    path.write_bytes(issued_file)
    return path


@pytest.fixture
def issued(card_path: Path, kit: CardKit) -> SecureElement:
    """A fresh issued card (its own element, loaded from this test's file)."""
    return load_card(card_path, kit.master_key)


@pytest.fixture
def personalised(kit: CardKit) -> SecureElement:
    """A card with both PINs set but no keys: enough for PIN tests, no key generation."""
    element = SecureElement.blank(kit.issuer_secret, card_id="PINCARD")
    card = JpkiCard(element)
    for kind in CertKind:
        card.set_pin(kind, kit.pin(kind), kit.issuer_secret)
    return element


def _private_keys(element: SecureElement) -> list[rsa.RSAPrivateKey]:
    """Dig the card's private keys out of the vault's closure cells.

    Only a test (or a debugger) does this: it shows the keys are reachable from
    Python only by walking ``__closure__``, and gives the storage tests the exact
    bytes that must never appear in a card file.
    """
    found: list[rsa.RSAPrivateKey] = []
    seen: set[int] = set()

    def walk(obj: object) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, rsa.RSAPrivateKey):
            found.append(obj)
        elif isinstance(obj, dict):
            for value in obj.values():
                walk(value)
        elif callable(obj):
            for cell in getattr(obj, "__closure__", None) or ():
                walk(cell.cell_contents)

    vault = element._vault
    for name in type(vault).__dataclass_fields__:
        walk(getattr(vault, name))
    return found


@pytest.fixture(scope="session")
def private_keys() -> Callable[[SecureElement], list[rsa.RSAPrivateKey]]:
    return _private_keys
