"""The two certificates on every My Number card, as X.509 profiles.

- 署名用電子証明書 (signature): carries the holder's four basic facts (基本4情報)
  in extensions under the JPKI arc 1.2.392.200149.8.5.5 (.1 name, .3 sex,
  .4 date of birth, .5 address); key usage nonRepudiation + digitalSignature;
  policy 1.2.392.200149.8.5.1.1.
- 利用者証明用電子証明書 (user authentication): carries none of them; key usage
  digitalSignature; extended key usage clientAuth; policy 1.2.392.200149.8.5.1.3.

Both: RSA-2048 with SHA256withRSA, valid until the fifth birthday after issue
or the card's expiry if sooner (公的個人認証法施行規則), CRL distribution point
and Authority Information Access (OCSP, CA issuers) pointing at the authority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from kofu.core.birthdays import birthday_after
from kofu.core.certkinds import CertKind
from kofu.core.text import check_plain

__all__ = [
    "JPKI_ARC",
    "OID_ADDRESS",
    "OID_DATE_OF_BIRTH",
    "OID_GENDER",
    "OID_NAME",
    "OID_POLICY_AUTH",
    "OID_POLICY_SIGN",
    "BasicFacts",
    "CertKind",
    "certificate_validity_end",
    "policy_of",
]

JPKI_ARC = "1.2.392.200149.8.5"
OID_NAME = ObjectIdentifier(f"{JPKI_ARC}.5.1")
OID_NAME_SUBSTITUTE = ObjectIdentifier(f"{JPKI_ARC}.5.2")
OID_GENDER = ObjectIdentifier(f"{JPKI_ARC}.5.3")
OID_DATE_OF_BIRTH = ObjectIdentifier(f"{JPKI_ARC}.5.4")
OID_ADDRESS = ObjectIdentifier(f"{JPKI_ARC}.5.5")
OID_ADDRESS_SUBSTITUTE = ObjectIdentifier(f"{JPKI_ARC}.5.6")
OID_POLICY_SIGN = ObjectIdentifier(f"{JPKI_ARC}.1.1")
OID_POLICY_AUTH = ObjectIdentifier(f"{JPKI_ARC}.1.3")
BASIC_FACT_OIDS = (OID_NAME, OID_GENDER, OID_DATE_OF_BIRTH, OID_ADDRESS)


def policy_of(kind: CertKind) -> ObjectIdentifier:
    """The certificate policy OID of each kind."""
    return OID_POLICY_SIGN if kind is CertKind.SIGN else OID_POLICY_AUTH


@dataclass(frozen=True)
class BasicFacts:
    """基本4情報 as the signature certificate carries them."""

    name: str
    sex: str  # 1 male, 2 female (ISO/IEC 5218)
    birth_date: date
    address: str

    def __post_init__(self) -> None:
        """A certificate carries its facts for years: no control or bidi-override character."""
        check_plain(name=self.name, address=self.address)

    def extensions(self) -> list[x509.UnrecognizedExtension]:
        """Each fact as a non-critical extension holding a DER UTF8String."""
        values = (
            (OID_NAME, self.name),
            (OID_GENDER, self.sex),
            (OID_DATE_OF_BIRTH, self.birth_date.strftime("%Y%m%d")),
            (OID_ADDRESS, self.address),
        )
        return [x509.UnrecognizedExtension(oid, _utf8(v)) for oid, v in values]


def _utf8(text: str) -> bytes:
    """DER UTF8String (tag 12) with definite length."""
    raw = text.encode("utf-8")
    n = len(raw)
    if n < 0x80:
        return bytes([12, n]) + raw
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([12, 0x80 | len(size)]) + size + raw


def read_utf8(der: bytes) -> str:
    """Inverse of ``_utf8``: the text of a DER UTF8String."""
    if not der or der[0] != 12:
        raise ValueError("not a DER UTF8String")
    first = der[1]
    if first < 0x80:
        return der[2 : 2 + first].decode("utf-8")
    k = first & 0x7F
    n = int.from_bytes(der[2 : 2 + k], "big")
    return der[2 + k : 2 + k + n].decode("utf-8")


def certificate_validity_end(birth: date, issued_on: date, card_expiry: date | None) -> date:
    """The last day a certificate is valid: the fifth birthday after issue, or the card's end."""
    fifth = birthday_after(birth, issued_on, 5)
    return min(fifth, card_expiry) if card_expiry else fifth
