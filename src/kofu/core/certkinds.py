"""The two certificates on a My Number card, named the same by every party and the card."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CertKind"]


class CertKind(StrEnum):
    """Which of the card's two certificates."""

    SIGN = "sign"  # 署名用電子証明書
    AUTH = "auth"  # 利用者証明用電子証明書
