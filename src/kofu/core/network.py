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

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kofu.core.errors import InvalidInput
from kofu.core.keys import KeyAlgorithm, KeyStore, write_new

__all__ = [
    "NETWORKS",
    "NetworkIdentity",
    "as_pkcs12",
    "certify",
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


def _keys(directory: Path) -> KeyStore:
    """The network's keys: ``ca.key`` for its CA, ``<name>.key`` for each party."""
    return KeyStore(directory, KeyAlgorithm.EC_P256, ".key")


def _publish(path: Path, cert: x509.Certificate) -> x509.Certificate:
    """Write a certificate once; when another process was first, theirs is the one."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    if write_new(path, pem, 0o644):
        return cert
    return x509.load_pem_x509_certificate(path.read_bytes())


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kofu network"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ensure_ca(directory: Path) -> x509.Certificate:
    cert_path = directory / "ca.pem"
    if cert_path.exists():
        return x509.load_pem_x509_certificate(cert_path.read_bytes())
    keys = _keys(directory)
    public = keys.ensure("ca")
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("kofu network CA"))
        .issuer_name(_name("kofu network CA"))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    )
    return _publish(cert_path, keys.sign_with("ca", builder))


def _directory(home: Path, network: str) -> Path:
    if network not in NETWORKS:
        raise InvalidInput(f"the network is store or lgwan, not {network!r}", field="network")
    return home / "network" if network == "store" else home / "network" / network


def certify(
    home: Path, builder: x509.CertificateBuilder, network: str = "store"
) -> x509.Certificate:
    """``builder``'s certificate, issued by ``network``'s CA (made on first use)."""
    directory = _directory(home, network)
    ca_cert = _ensure_ca(directory)
    return _keys(directory).sign_with("ca", builder.issuer_name(ca_cert.subject))


NETWORKS = ("store", "lgwan")  # the stores' dedicated line; the cities' LGWAN


def network_identity(home: Path, name: str, network: str = "store") -> NetworkIdentity:
    """The party's certificate from the CA of ``network``, made on first use."""
    if not name or not set(name) <= _NAME_CHARS or len(name) > 48 or name == "ca":
        raise InvalidInput(f"a network name is lower-case letters, digits and '-', not {name!r}")
    directory = _directory(home, network)
    _ensure_ca(directory)
    keys = _keys(directory)
    cert_path = directory / f"{name}.pem"
    if not cert_path.exists():
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .public_key(keys.ensure(name))
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
        )
        _publish(cert_path, certify(home, builder, network))
    return NetworkIdentity(name, cert_path, keys.path(name), directory / "ca.pem")


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
    return _keys(identity.key.parent).pkcs12(
        identity.name,
        x509.load_pem_x509_certificate(identity.cert.read_bytes()),
        [x509.load_pem_x509_certificate(identity.ca.read_bytes())],
        password,
    )
