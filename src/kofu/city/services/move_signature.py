"""The online special move-out (引越しワンストップ): the request signed with the card.

The resident's card checks the signature password and signs the request
with the signature key; the city checks the signature certificate's chain
to the JPKI signature CA, its validity, the authority's OCSP answer (RFC
6960) and that the certificate is the resident's own, then the signature
over exactly this request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard
from kofu.card.storage import load_card, save_card
from kofu.contracts.jpki import CertificateStatus
from kofu.core.certkinds import CertKind
from kofu.core.errors import Refused

__all__ = ["SignatureChecks", "SignedMoveOut", "move_out_payload", "sign_move_out", "verify_online"]

SKEW = timedelta(minutes=5)  # two services' clocks may differ this much (as the center allows)


class SignatureChecks(Protocol):
    """What the check needs of the authority (kofu.city.adapters.citylink.CityLink)."""

    def certificate_status(self, serial: str) -> CertificateStatus: ...

    def sign_ca(self) -> x509.Certificate: ...

    def ocsp_sign(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> str: ...


@dataclass(frozen=True)
class SignedMoveOut:
    """The move-out request as the resident signed it (引越しワンストップ)."""

    payload: bytes  # the request, canonical JSON
    signature: bytes
    certificate: bytes  # the signature certificate (署名用電子証明書), DER


def move_out_payload(resident: str, to_city: str, planned: date, members: list[str]) -> bytes:
    body = {"resident": resident, "to": to_city, "planned": planned.isoformat(), "members": members}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign_move_out(
    *,
    card_path: Path,
    password: str,
    master_key: bytes,
    ledger: CardLedger | None,
    resident: str,
    to_city: str,
    planned: date,
    members: list[str],
) -> SignedMoveOut:
    """The resident's side: the card checks the password and signs the request."""
    element = load_card(card_path, master_key, ledger)
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.SIGN, password)
    payload = move_out_payload(resident, to_city, planned, members)
    signature = card.sign(CertKind.SIGN, payload)
    certificate = card.read_certificate(CertKind.SIGN)
    save_card(element, card_path, master_key, ledger)
    return SignedMoveOut(payload, signature, certificate)


def _refuse_signature(why: str) -> Refused:
    return Refused(
        "signature_invalid",
        f"the online move-out is not signed by a valid signature certificate: {why}",
        message_ja="電子署名を確認できないため、オンラインの転出届を受け付けられません。",
    )


def verify_online(
    network: SignatureChecks, signed: SignedMoveOut, expected: bytes, resident: str, now: datetime
) -> None:
    """Chain, validity, OCSP, the signature over this request, and whose certificate it is."""
    if signed.payload != expected:
        raise _refuse_signature("the signed request is not this request")
    try:
        cert = x509.load_der_x509_certificate(signed.certificate)
    except ValueError as exc:
        raise _refuse_signature("not an X.509 certificate") from exc
    issuer = network.sign_ca()
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise _refuse_signature("not issued by the JPKI signature CA") from exc
    if not cert.not_valid_before_utc - SKEW <= now <= cert.not_valid_after_utc + SKEW:
        raise _refuse_signature("outside its validity")
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise _refuse_signature("not an RSA key")
    try:
        key.verify(signed.signature, signed.payload, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise _refuse_signature("the signature does not verify") from exc
    status = network.ocsp_sign(cert, issuer, now)
    if status != "good":
        raise _refuse_signature(f"OCSP says {status}")
    owner = network.certificate_status(f"{cert.serial_number:x}")
    if owner.resident_code != resident:
        raise _refuse_signature("the certificate is another person's")
