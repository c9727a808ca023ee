"""The center's signing key for anti-forgery payloads, and the certificates it publishes.

The key is ECDSA P-256 (ES256), certified by the network CA; its certificate
is published under KOFU_HOME/center/published/<kid>.pem so that verifiers
can check any payload by its key id, including after the key is rolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from kofu.core.keys import KeyAlgorithm, KeyStore, StoredKey, write_new
from kofu.core.network import certify
from kofu.documents.payload import key_id

__all__ = ["Signer", "center_signer", "published_certificates", "published_folder"]


@dataclass(frozen=True)
class Signer:
    """The center's signing key as a handle (it signs; the private key stays in its store)."""

    key: StoredKey
    certificate: x509.Certificate
    kid: bytes


def _certificate(home: Path, keys: KeyStore) -> x509.Certificate:
    """The signing key's certificate from the network CA, published under its key id."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kofu issuance center")]))
        .public_key(keys.public_key("signing"))
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    return certify(home, builder)


def center_signer(home: Path) -> Signer:
    """The current signing key, made (and its certificate published) on first use."""
    keys = KeyStore(home / "center", KeyAlgorithm.EC_P256, ".key")  # center/signing.key
    cert_path = home / "center" / "signing.pem"
    keys.ensure("signing")
    if not cert_path.exists():
        cert_pem = _certificate(home, keys).public_bytes(serialization.Encoding.PEM)
        if write_new(cert_path, cert_pem, 0o644):
            published = published_folder(home)
            published.mkdir(exist_ok=True)
            cert = x509.load_pem_x509_certificate(cert_pem)
            write_new(published / f"{key_id(cert).hex()}.pem", cert_pem, 0o644)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return Signer(keys.handle("signing"), cert, key_id(cert))


def published_folder(home: Path) -> Path:
    return home / "center" / "published"


def published_certificates(folder: Path) -> dict[bytes, x509.Certificate]:
    """Every certificate in a folder of the center's published ones, by key id."""
    out = {}
    for path in sorted(folder.glob("*.pem")):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        out[key_id(cert)] = cert
    return out
