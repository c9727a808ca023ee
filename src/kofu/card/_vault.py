"""The card's secrets: private keys, PIN verifiers and the issuer secret, kept in closures.

A real secure element keeps its private keys in memory the operating system on
the card never lets out.  Python has no such memory, so this module does what
the language allows: the secrets live only in the cells of nested functions.
No attribute of a ``Vault`` or a ``SecureElement`` holds them, ``vars()`` and
``dir()`` show none, pickling is refused, and the only way out of the closure is
``seal``, which encrypts them under a key the caller derives (AES-256-GCM, see
``kofu.card.storage``).  Someone who walks ``__closure__`` cells or a debugger
can still reach them: that is the limit of an in-process model, and why the file
format, not attribute hiding, is what protects them at rest.

PINs are never kept in clear, even here: each is held as an scrypt verifier
with its own random salt, and compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from kofu.core.certkinds import CertKind

__all__ = ["Vault", "new_vault", "open_vault"]

RSA_BITS = 2048
RSA_EXPONENT = 65537
# scrypt's interactive-login cost (Percival): ~16 MiB and tens of milliseconds per VERIFY.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_SIZE = 16
NONCE_SIZE = 12

Verifier = tuple[bytes, bytes]  # (salt, scrypt hash)


@dataclass(frozen=True, slots=True)
class Vault:
    """Operations on the card's secrets; the secrets themselves are not attributes."""

    generate_key: Callable[[CertKind], bytes]
    """Make a new RSA-2048 key for ``kind``, replacing any old one; returns the SPKI DER."""
    has_key: Callable[[CertKind], bool]
    sign_digest: Callable[[CertKind, bytes], bytes]
    """RSASSA-PKCS1-v1_5 over a SHA-256 hash (the key must exist)."""
    set_pin: Callable[[CertKind, bytes], None]
    has_pin: Callable[[CertKind], bool]
    pin_matches: Callable[[CertKind, bytes], bool]
    mac_valid: Callable[[bytes, bytes], bool]
    """Whether the second argument is HMAC-SHA256(issuer secret, first argument)."""
    issuer_digest: str
    """SHA-256 of the issuer secret, hex: names the issuer key without revealing it."""
    seal: Callable[[bytes, bytes], tuple[bytes, bytes]]
    """Encrypt every secret under an AES-256 key with associated data: (nonce, ciphertext)."""


def new_vault(issuer_secret: bytes) -> Vault:
    """The vault of a blank card: no keys, no PINs, only the issuer secret."""
    return _build(bytes(issuer_secret), {}, {})


def open_vault(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> Vault:
    """Decrypt what ``seal`` wrote; raises InvalidTag if anything was changed."""
    plain = AESGCM(key).decrypt(nonce, ciphertext, aad)
    doc: dict[str, Any] = json.loads(plain)
    keys: dict[CertKind, rsa.RSAPrivateKey] = {}
    for kind, der in doc["keys"].items():
        # The ciphertext authenticated, so these are keys the card generated itself:
        # OpenSSL's consistency check (tens of ms per key) would add nothing.
        loaded = serialization.load_der_private_key(
            _unb64(der), None, unsafe_skip_rsa_key_validation=True
        )
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError("the sealed key is not an RSA key")
        keys[CertKind(kind)] = loaded
    pins = {CertKind(k): (_unb64(v["salt"]), _unb64(v["hash"])) for k, v in doc["pins"].items()}
    return _build(_unb64(doc["issuer_secret"]), keys, pins)


def _build(
    secret: bytes, keys: dict[CertKind, rsa.RSAPrivateKey], pins: dict[CertKind, Verifier]
) -> Vault:
    generate_key, has_key, sign_digest, dump_keys = _key_ops(keys)
    set_pin, has_pin, pin_matches, dump_pins = _pin_ops(pins)

    def mac_valid(message: bytes, mac: bytes) -> bool:
        expected = hmac.new(secret, message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, mac)

    def seal(key: bytes, aad: bytes) -> tuple[bytes, bytes]:
        doc = {"issuer_secret": _b64(secret), "keys": dump_keys(), "pins": dump_pins()}
        nonce = os.urandom(NONCE_SIZE)
        plain = json.dumps(doc, sort_keys=True).encode("ascii")
        return nonce, AESGCM(key).encrypt(nonce, plain, aad)

    return Vault(
        generate_key=generate_key,
        has_key=has_key,
        sign_digest=sign_digest,
        set_pin=set_pin,
        has_pin=has_pin,
        pin_matches=pin_matches,
        mac_valid=mac_valid,
        issuer_digest=hashlib.sha256(secret).hexdigest(),
        seal=seal,
    )


def _key_ops(
    keys: dict[CertKind, rsa.RSAPrivateKey],
) -> tuple[
    Callable[[CertKind], bytes],
    Callable[[CertKind], bool],
    Callable[[CertKind, bytes], bytes],
    Callable[[], dict[str, str]],
]:
    def generate_key(kind: CertKind) -> bytes:
        key = rsa.generate_private_key(public_exponent=RSA_EXPONENT, key_size=RSA_BITS)
        keys[kind] = key
        return key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def has_key(kind: CertKind) -> bool:
        return kind in keys

    def sign_digest(kind: CertKind, digest: bytes) -> bytes:
        return keys[kind].sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))

    def dump_keys() -> dict[str, str]:
        return {
            kind.value: _b64(
                key.private_bytes(
                    serialization.Encoding.DER,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            for kind, key in keys.items()
        }

    return generate_key, has_key, sign_digest, dump_keys


def _pin_ops(
    pins: dict[CertKind, Verifier],
) -> tuple[
    Callable[[CertKind, bytes], None],
    Callable[[CertKind], bool],
    Callable[[CertKind, bytes], bool],
    Callable[[], dict[str, dict[str, str]]],
]:
    def set_pin(kind: CertKind, value: bytes) -> None:
        salt = os.urandom(SALT_SIZE)
        pins[kind] = (salt, _scrypt(salt, value))

    def has_pin(kind: CertKind) -> bool:
        return kind in pins

    def pin_matches(kind: CertKind, value: bytes) -> bool:
        salt, stored = pins[kind]
        return hmac.compare_digest(stored, _scrypt(salt, value))

    def dump_pins() -> dict[str, dict[str, str]]:
        return {k.value: {"salt": _b64(s), "hash": _b64(h)} for k, (s, h) in pins.items()}

    return set_pin, has_pin, pin_matches, dump_pins


def _scrypt(salt: bytes, value: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(value)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
