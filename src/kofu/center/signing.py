"""The center's signing key for anti-forgery payloads, and the certificates it publishes.

The key is ECDSA P-256 (ES256), certified by the network CA; its certificate
is published under KOFU_HOME/center/published/<kid>.pem so that verifiers
can check any payload by its key id, including after the key is rolled.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kofu.core.network import network_identity
from kofu.documents.payload import key_id

__all__ = ["Signer", "center_signer", "published_certificates", "published_folder"]


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    kid: bytes


def _ca(home: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    identity = network_identity(home, "center")  # makes the network CA if needed
    ca_cert = x509.load_pem_x509_certificate(identity.ca.read_bytes())
    ca_key = serialization.load_pem_private_key((identity.ca.parent / "ca.key").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    return ca_cert, ca_key


def center_signer(home: Path) -> Signer:
    """The current signing key, made (and its certificate published) on first use."""
    directory = home / "center"
    key_path, cert_path = directory / "signing.key", directory / "signing.pem"
    if not key_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        ca_cert, ca_key = _ca(home)
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kofu issuance center")])
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        cert_path.write_bytes(cert_pem)
        published = published_folder(home)
        published.mkdir(exist_ok=True)
        (published / f"{key_id(cert).hex()}.pem").write_bytes(cert_pem)
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return Signer(loaded, cert, key_id(cert))


def published_folder(home: Path) -> Path:
    return home / "center" / "published"


def published_certificates(folder: Path) -> dict[bytes, x509.Certificate]:
    """Every certificate in a folder of the center's published ones, by key id."""
    out = {}
    for path in sorted(folder.glob("*.pem")):
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        out[key_id(cert)] = cert
    return out
