"""The private network CAs behind mutual TLS between kofu's services.

There are two networks, as in the real system: the stores' dedicated line
(専用回線: kiosks, the operator's browser and the center's door for them)
under KOFU_HOME/network, and LGWAN (the center and the cities) under
KOFU_HOME/network/lgwan.  On first use each gets an ECDSA P-256 CA, then one
certificate per party name (``city-112186``, ``center``, ``kiosk-…``)
usable as TLS server and client, for 127.0.0.1 and localhost.  A service
started with mTLS accepts only clients holding a certificate from its own
network's CA, so a kiosk can reach the center but never a city directly.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kofu.core.errors import InvalidInput

__all__ = [
    "NETWORKS",
    "NetworkIdentity",
    "as_pkcs12",
    "client_context",
    "network_identity",
    "server_context",
]

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class NetworkIdentity:
    """The files one party presents on the network: its certificate and key, and the CA."""

    name: str
    cert: Path
    key: Path
    ca: Path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kofu network"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ensure_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    if not cert_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("kofu network CA"))
            .issuer_name(_name("kofu network CA"))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    return x509.load_pem_x509_certificate(cert_path.read_bytes()), ca_key


NETWORKS = ("store", "lgwan")  # the stores' dedicated line; the cities' LGWAN


def network_identity(home: Path, name: str, network: str = "store") -> NetworkIdentity:
    """The party's certificate from the CA of ``network``, made on first use."""
    if not name or not set(name) <= _NAME_CHARS or len(name) > 48:
        raise InvalidInput(f"a network name is lower-case letters, digits and '-', not {name!r}")
    if network not in NETWORKS:
        raise InvalidInput(f"the network is store or lgwan, not {network!r}", field="network")
    directory = home / "network" if network == "store" else home / "network" / network
    ca_cert, ca_key = _ensure_ca(directory)
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    if not cert_path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=825))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return NetworkIdentity(name, cert_path, key_path, directory / "ca.pem")


def server_context(identity: NetworkIdentity) -> ssl.SSLContext:
    """TLS 1.2+ server that requires a client certificate from the network CA."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(identity.ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(str(identity.cert), str(identity.key))
    return ctx


def client_context(identity: NetworkIdentity) -> ssl.SSLContext:
    """TLS client that presents the party's certificate and trusts only the network CA."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(identity.ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(str(identity.cert), str(identity.key))
    return ctx


def as_pkcs12(identity: NetworkIdentity, password: str) -> bytes:
    """The identity's key, certificate and the CA as PKCS#12, the form browsers import."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    key = serialization.load_pem_private_key(identity.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return pkcs12.serialize_key_and_certificates(
        identity.name.encode(),
        key,
        x509.load_pem_x509_certificate(identity.cert.read_bytes()),
        [x509.load_pem_x509_certificate(identity.ca.read_bytes())],
        serialization.BestAvailableEncryption(password.encode()),
    )
