"""Private keys behind one interface: made, kept and used here, never handed out.

Every private key kofu holds (the network CAs and each party's TLS key, the
JPKI root and issuing CAs, the center's anti-forgery signing key) lives in a
``KeyStore``: a directory of unencrypted PKCS#8 PEM files (RFC 5958), each
owner-only (0600) from the moment it exists, never replaced once written.
Callers get public keys, signatures and signed X.509 objects (RFC 5280
certificates and CRLs, RFC 6960 OCSP responses), never the key itself: this
is the seam where an HSM (PKCS#11) would stand.  TLS libraries, which read a
key file themselves, are given its path; a browser's PKCS#12 bundle leaves
only encrypted under its password (RFC 7292).
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

__all__ = [
    "KeyAlgorithm",
    "KeyStore",
    "PublicKey",
    "Signable",
    "StoredKey",
    "write_new",
]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
_PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")

T_co = TypeVar("T_co", covariant=True)


class Signable(Protocol[T_co]):
    """An X.509 builder (certificate, CRL, OCSP response) that signs with the key it is given."""

    def sign(
        self,
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        algorithm: hashes.SHA256,
        /,
    ) -> T_co: ...


class KeyAlgorithm(StrEnum):
    """The two kinds of key kofu makes: the card's and JPKI's RSA, the network's ECDSA."""

    RSA_2048 = "rsa-2048"  # JPKI CAs, as the card's SHA256withRSA needs
    EC_P256 = "ec-p256"  # network CAs, TLS keys, the center's ES256 signing key

    def generate(self) -> _PrivateKey:
        if self is KeyAlgorithm.RSA_2048:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return ec.generate_private_key(ec.SECP256R1())


def write_new(path: Path, data: bytes, mode: int = 0o600) -> bool:
    """Write ``data`` to a new file, owner-only unless ``mode`` says; False if ``path`` exists.

    The mode is set from the file's first instant (``os.open``, never a
    chmod after), and the file appears whole or not at all: it is written
    under a temporary name and linked into place, which fails rather than
    replaces when another process was first.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


class KeyStore:
    """Named private keys of one algorithm in files ``<directory>/<name><suffix>``.

    Safe to share between threads; a key is read from its file once per
    process.  Two processes making the same key at once end up with one:
    the second takes the first's.
    """

    def __init__(self, directory: Path, algorithm: KeyAlgorithm, suffix: str = ".key") -> None:
        self.directory, self.algorithm, self.suffix = directory, algorithm, suffix
        self._keys: dict[str, _PrivateKey] = {}
        self._lock = threading.Lock()

    def path(self, name: str) -> Path:
        """The key's file, for TLS libraries that load the key themselves."""
        if not name or not set(name) <= _NAME_CHARS or len(name) > 64:
            raise ValueError(f"a key name is lower-case letters, digits, '-' and '_', not {name!r}")
        return self.directory / f"{name}{self.suffix}"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def create(self, name: str) -> PublicKey:
        """A new key under ``name``; ``FileExistsError`` when there is one (never replaced)."""
        if not self._make(name):
            raise FileExistsError(f"a key named {name!r} already exists in {self.directory}")
        return self.public_key(name)

    def ensure(self, name: str) -> PublicKey:
        """The key under ``name``, made on first use."""
        if not self.exists(name):
            self._make(name)  # False: another process made it first; theirs is the key
        return self.public_key(name)

    def public_key(self, name: str) -> PublicKey:
        return self._key(name).public_key()

    def sign(self, name: str, data: bytes) -> bytes:
        """A SHA-256 signature: ECDSA (DER, RFC 3279) or RSASSA-PKCS1-v1_5 (RFC 8017)."""
        key = self._key(name)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hashes.SHA256()))
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def sign_with(self, name: str, builder: Signable[T_co]) -> T_co:
        """What ``builder`` makes, signed with SHA-256 by the key under ``name``."""
        return builder.sign(self._key(name), hashes.SHA256())

    def handle(self, name: str) -> StoredKey:
        """The key under ``name`` as an object that signs, for code written against a key object."""
        self._key(name)  # fails now, not at the first signature, when there is no such key
        return StoredKey(self, name)

    def pkcs12(
        self, name: str, certificate: x509.Certificate, cas: list[x509.Certificate], password: str
    ) -> bytes:
        """The key with its certificate and CAs as PKCS#12 encrypted under ``password``."""
        return pkcs12.serialize_key_and_certificates(
            name.encode(),
            self._key(name),
            certificate,
            cas,
            serialization.BestAvailableEncryption(password.encode()),
        )

    def _make(self, name: str) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        pem = self.algorithm.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return write_new(self.path(name), pem)

    def _key(self, name: str) -> _PrivateKey:
        key = self._keys.get(name)
        if key is not None:
            return key
        path = self.path(name)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyError(f"no key named {name!r} in {self.directory}") from None
        loaded = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} holds neither an RSA nor an EC key")
        with self._lock:
            return self._keys.setdefault(name, loaded)


@dataclass(frozen=True)
class StoredKey:
    """One key of a store by name, as an HSM handle: it signs and shows its public key."""

    store: KeyStore
    name: str

    def public_key(self) -> PublicKey:
        return self.store.public_key(self.name)

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """An ECDSA signature, as ``EllipticCurvePrivateKey.sign`` gives (ES256 needs SHA-256)."""
        if not (
            isinstance(signature_algorithm, ec.ECDSA)
            and isinstance(signature_algorithm.algorithm, hashes.SHA256)
        ):
            raise ValueError("a stored key signs ECDSA with SHA-256 only")
        public = self.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise ValueError(f"the key {self.name!r} is not an ECDSA key")
        return self.store.sign(self.name, data)
