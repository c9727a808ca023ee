"""cities and center ↔ the JPKI authority's private link (LGWAN, mutual TLS).

``POST /certificates`` (a city, for its own card): ``CertificateRequest`` →
``CertificatesIssued``.  ``POST /revocations`` (a city): ``RevocationRequest``
→ ``Revoked``.  ``GET /status/{serial}`` (the cities and the center):
→ ``CertificateStatus``, the register's entry for a certificate.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StrictStr

from kofu.contracts import CityCode, Contract, Digest, ResidentCodeText

__all__ = [
    "BasicFacts",
    "Cause",
    "CertificateRequest",
    "CertificateStatus",
    "CertificatesIssued",
    "RevocationRequest",
    "Revoked",
]

Serial = Annotated[str, Field(strict=True, pattern=r"^[0-9a-f]{1,40}$")]  # hex, lower case
Pem = Annotated[StrictStr, Field(min_length=1, max_length=8192)]
CardId = Annotated[StrictStr, Field(min_length=1, max_length=32)]

Cause = Literal[
    "move",  # 住所変更 (転居, 転出, 転入)
    "name_change",  # 氏名変更
    "facts_changed",  # 基本4情報の変更
    "death",  # 死亡
    "loss",  # 紛失
    "card_return",  # カードの返納
    "abolition",  # カードの廃止
    "user_request",  # 本人の失効申請
    "key_compromise",  # 秘密鍵の漏えい
    "record_mismatch",  # 記録が住民票と一致しない (職権)
    "renewal",  # 更新による置き換え
]
"""What led to a revocation (失効事由): the authority's RevocationCause values."""


class BasicFacts(Contract):
    """基本4情報 as the signature certificate carries them (sex as ISO/IEC 5218: 1 or 2)."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    sex: Literal["1", "2"]
    birth_date: date
    address: Annotated[StrictStr, Field(min_length=1, max_length=256)]


class CertificateRequest(Contract):
    """A city asks for the card's certificates: the public keys made on the card, and whose."""

    city: CityCode
    resident_code: ResidentCodeText
    card_id: CardId
    birth_date: date
    card_expiry: date
    auth_public_key_pem: Pem
    sign_public_key_pem: Pem | None = None  # no signature certificate (under 15, declined)
    facts: BasicFacts | None = None  # given with a signature key


class CertificatesIssued(Contract):
    """The certificates the authority issued, in PEM, and their serials."""

    auth_pem: Pem
    auth_serial: Serial
    sign_pem: Pem | None = None
    sign_serial: Serial | None = None


class RevocationRequest(Contract):
    """A city revokes every good certificate of one of its cards."""

    card_id: CardId
    cause: Cause


class Revoked(Contract):
    """The serials revoked now (none when they were revoked already)."""

    revoked: tuple[Serial, ...]


class CertificateStatus(Contract):
    """The register's entry for a certificate; who it was issued to never changes."""

    serial: Annotated[StrictStr, Field(max_length=40)]  # as asked
    status: Literal["good", "revoked", "unknown"]
    cause: Cause | None = None
    city: CityCode | None = None  # the city that had it issued
    kind: Literal["auth", "sign"] | None = None
    holder_digest: Digest | None = None
    resident_code: ResidentCodeText | None = None  # for juki: where the record is now
