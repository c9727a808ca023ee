"""The JPKI application (公的個人認証 AP) as the card and the host both see it.

What a real My Number card holds under the JPKI AP (AID D3 92 F0 00 26 01 00 00
00 01), and what this model mirrors — the elementary files (EF) by file id:

    EF 000A  利用者証明用電子証明書   auth certificate (DER), freely readable
    EF 0018  利用者証明用暗証番号     auth PIN: 4 digits, 3 tries
    EF 0017  利用者証明用秘密鍵       auth private key: signs only after the auth PIN
    EF 0001  署名用電子証明書         sign certificate (DER), readable after the sign password
    EF 001B  署名用パスワード         sign password: 6–16 of A–Z and 0–9, 5 tries
    EF 001A  署名用秘密鍵             sign private key: signs only after the sign password

The CA certificates the real card also carries (EF 000B, EF 0002) are not
modelled: the authority publishes them anyway.

This module is shared by the card model (``element``) and the host client
(``reader``) so that both agree on the layout, the PIN rules and the issuer MAC,
and so that a PC/SC reader holding a real card can stand behind the same client.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import Enum

from kofu.core.certkinds import CertKind
from kofu.core.errors import InvalidInput

__all__ = [
    "CERT_EF",
    "CHALLENGE_SIZE",
    "JPKI_AID",
    "KEY_EF",
    "MAC_SIZE",
    "MIN_ISSUER_SECRET",
    "PIN_EF",
    "PIN_RULES",
    "SHA256_DIGEST_INFO_PREFIX",
    "EfRole",
    "PinRule",
    "check_issuer_secret",
    "issuer_mac",
]

JPKI_AID = bytes.fromhex("D392F000260100000001")

CERT_EF = {CertKind.AUTH: 0x000A, CertKind.SIGN: 0x0001}
PIN_EF = {CertKind.AUTH: 0x0018, CertKind.SIGN: 0x001B}
KEY_EF = {CertKind.AUTH: 0x0017, CertKind.SIGN: 0x001A}

# DER DigestInfo header for SHA-256 (RFC 8017 §9.2, note 1): the 32-byte hash follows.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")

MAC_SIZE = 32  # HMAC-SHA256 trailer on issuer commands
CHALLENGE_SIZE = 8  # GET CHALLENGE answer, mixed into the next issuer MAC
MIN_ISSUER_SECRET = 16


class EfRole(Enum):
    """What an EF of the JPKI AP holds."""

    CERT = "certificate"
    PIN = "pin"
    KEY = "key"


@dataclass(frozen=True)
class PinRule:
    """Format and retry limit of one of the card's two PINs."""

    kind: CertKind
    max_tries: int
    pattern: re.Pattern[str]
    description: str
    description_ja: str
    name: str
    name_ja: str

    def is_valid(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None

    def check(self, value: str) -> bytes:
        """The value as the card receives it (ASCII), or InvalidInput naming the rule."""
        if not isinstance(value, str) or not self.is_valid(value):
            raise InvalidInput(self.description, field="pin")
        return value.encode("ascii")


PIN_RULES = {
    CertKind.AUTH: PinRule(
        kind=CertKind.AUTH,
        max_tries=3,
        pattern=re.compile(r"[0-9]{4}"),
        description="the authentication PIN is 4 digits",
        description_ja="利用者証明用電子証明書の暗証番号は数字4桁です",
        name="authentication PIN",
        name_ja="利用者証明用電子証明書の暗証番号",
    ),
    CertKind.SIGN: PinRule(
        kind=CertKind.SIGN,
        max_tries=5,
        pattern=re.compile(r"[A-Z0-9]{6,16}"),
        description="the signature password is 6–16 upper-case letters and digits",
        description_ja="署名用電子証明書の暗証番号は英大文字と数字の6〜16文字です",
        name="signature password",
        name_ja="署名用電子証明書の暗証番号",
    ),
}


def check_issuer_secret(secret: bytes) -> bytes:
    """The issuer secret as bytes, or InvalidInput when it is too short to be a key."""
    if not isinstance(secret, bytes | bytearray) or len(secret) < MIN_ISSUER_SECRET:
        raise InvalidInput(
            f"the issuer secret must be at least {MIN_ISSUER_SECRET} bytes",
            field="issuer_secret",
        )
    return bytes(secret)


def issuer_mac(secret: bytes, challenge: bytes, header: bytes, payload: bytes) -> bytes:
    """HMAC-SHA256 over challenge ‖ CLA INS P1 P2 ‖ payload, the issuer command trailer.

    The challenge (from GET CHALLENGE, single use) makes a recorded issuance
    command useless for replay — the role secure messaging plays on the real card.
    """
    return hmac.new(secret, challenge + header + payload, hashlib.sha256).digest()
