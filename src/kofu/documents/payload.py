"""The anti-forgery payload printed as a QR code on every store-issued certificate.

In the manner of the EU Digital COVID Certificate: the claims are a CBOR
map, signed as a COSE_Sign1 structure (RFC 9052 §4.4) with ES256 and a key
id (kid) taken from the signer's certificate, compressed with zlib and
written in Base45 (RFC 9285) behind the prefix ``KF1:``.  Whoever holds the
issuance center's published certificates can check a paper or a PDF.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import base45
import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from kofu.core.errors import KofuError

__all__ = ["PREFIX", "Claims", "InvalidPayload", "key_id", "open_payload", "seal_payload"]

PREFIX = "KF1:"
_ES256 = -7
_ALG, _KID = 1, 4  # COSE header labels
_COSE_SIGN1_TAG = 18
# claim keys in the CBOR map: small integers keep the QR code small
_KEYS = {
    "document_id": 1,
    "city": 2,
    "type": 3,
    "issued_at": 4,
    "holder_digest": 5,
    "content_digest": 6,
    "content_length": 7,
    "holder_name": 8,
    "issue_number": 9,
}


class InvalidPayload(KofuError):
    """The QR payload is not a genuine kofu payload; ``reason`` says why."""

    status = 422

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    """What the payload asserts about the printed document."""

    document_id: str
    city: str
    type: str
    issued_at: datetime
    holder_digest: bytes
    content_digest: bytes
    content_length: int
    holder_name: str
    issue_number: int

    def to_cbor_map(self) -> dict[int, Any]:
        values = self.__dict__ | {"issued_at": int(self.issued_at.timestamp())}
        return {_KEYS[k]: v for k, v in values.items()}

    @classmethod
    def from_cbor_map(cls, data: Any) -> Claims:
        if not isinstance(data, Mapping):
            raise InvalidPayload("not_kofu", "the payload is not a claims map")
        try:
            values = {k: data[n] for k, n in _KEYS.items()}
            values["issued_at"] = datetime.fromtimestamp(int(values["issued_at"]), UTC)
            return cls(**values)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InvalidPayload(
                "not_kofu", f"the payload lacks a claim or has a bad one ({exc})"
            ) from exc


def key_id(certificate: x509.Certificate) -> bytes:
    """The first 8 bytes of the SHA-256 of the signer's certificate (as the EU DCC does)."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()[:8]


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


class EcdsaSigner(Protocol):
    """An ECDSA key, or a key store's handle to one (kofu.core.keys.StoredKey)."""

    def sign(
        self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm, /
    ) -> bytes: ...


def seal_payload(claims: Claims, key: EcdsaSigner, kid: bytes) -> str:
    """The QR text: KF1: + Base45(zlib(COSE_Sign1(CBOR claims)))."""
    protected = cbor2.dumps({_ALG: _ES256, _KID: kid})
    payload = cbor2.dumps(claims.to_cbor_map())
    der = key.sign(_sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    cose = cbor2.dumps(cbor2.CBORTag(_COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    text: str = base45.b45encode(zlib.compress(cose, 9)).decode("ascii")
    return PREFIX + text


def _unwrap(text: str) -> list[Any]:
    if not text.startswith(PREFIX):
        raise InvalidPayload("not_kofu", "the code does not carry a kofu payload (no KF1: prefix)")
    try:
        compressed = base45.b45decode(text[len(PREFIX) :])
    except (ValueError, TypeError) as exc:
        raise InvalidPayload("corrupt", f"the code is not valid Base45 ({exc})") from exc
    try:
        cose = cbor2.loads(zlib.decompress(compressed))
    except zlib.error as exc:
        raise InvalidPayload("truncated", "the payload is truncated or damaged (zlib)") from exc
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise InvalidPayload("corrupt", "the payload is not CBOR") from exc
    value = cose.value if isinstance(cose, cbor2.CBORTag) and cose.tag == _COSE_SIGN1_TAG else cose
    if not (isinstance(value, list | tuple) and len(value) == 4):
        raise InvalidPayload("not_kofu", "the payload is not a COSE_Sign1 structure")
    return list(value)


def open_payload(text: str, keys: dict[bytes, x509.Certificate]) -> Claims:
    """Check the signature against the published certificates and return the claims."""
    protected, _unprotected, payload, signature = _unwrap(text)
    try:
        header = cbor2.loads(protected)
    except (cbor2.CBORDecodeError, TypeError, ValueError) as exc:
        raise InvalidPayload("corrupt", "the protected header is not CBOR") from exc
    if not isinstance(header, Mapping) or header.get(_ALG) != _ES256:
        raise InvalidPayload("not_kofu", "the payload is not signed with ES256")
    certificate = keys.get(bytes(header.get(_KID, b"")))
    if certificate is None:
        raise InvalidPayload(
            "unknown_key", "the payload is signed by a key the center never published"
        )
    public = certificate.public_key()
    if (
        not isinstance(public, ec.EllipticCurvePublicKey)
        or not isinstance(signature, bytes)
        or len(signature) != 64
    ):
        raise InvalidPayload("bad_signature", "the signature is malformed")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, _sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise InvalidPayload(
            "bad_signature", "the signature does not match: the payload was altered"
        ) from exc
    try:
        return Claims.from_cbor_map(cbor2.loads(payload))
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise InvalidPayload("corrupt", "the signed claims are not CBOR") from exc
