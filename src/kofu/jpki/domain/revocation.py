"""Why certificates are revoked, and which of the two each cause reaches.

The grounds follow the JPKI Act as municipal guides summarise them: a change
of any basic fact (a move, a change of name) revokes the signature
certificate only — the user-authentication certificate carries no facts and
stays valid; death, a lost card, the card's return or abolition revoke both.
"""

from __future__ import annotations

from enum import StrEnum

from cryptography import x509

from kofu.core.certkinds import CertKind

__all__ = ["RevocationCause", "crl_reason", "kinds_revoked"]


class RevocationCause(StrEnum):
    """What led to a revocation (失効事由)."""

    MOVE = "move"  # 住所変更 (転居, 転出, 転入)
    NAME_CHANGE = "name_change"  # 氏名変更
    FACTS_CHANGED = "facts_changed"  # 基本4情報の変更 (sex, date of birth corrected)
    DEATH = "death"  # 死亡
    LOSS = "loss"  # 紛失 (カードの一時停止)
    CARD_RETURN = "card_return"  # カードの返納 (moving abroad, on death)
    ABOLITION = "abolition"  # カードの廃止
    USER_REQUEST = "user_request"  # 本人の失効申請
    KEY_COMPROMISE = "key_compromise"  # 秘密鍵の漏えい
    RECORD_MISMATCH = "record_mismatch"  # 記録が住民票と一致しない (職権)
    RENEWAL = "renewal"  # 更新による置き換え

    @property
    def ja(self) -> str:
        return _JA[self]


_JA = {
    RevocationCause.MOVE: "住所の変更",
    RevocationCause.NAME_CHANGE: "氏名の変更",
    RevocationCause.FACTS_CHANGED: "基本4情報の変更",
    RevocationCause.DEATH: "死亡",
    RevocationCause.LOSS: "カードの紛失",
    RevocationCause.CARD_RETURN: "カードの返納",
    RevocationCause.ABOLITION: "カードの廃止",
    RevocationCause.USER_REQUEST: "本人からの失効申請",
    RevocationCause.KEY_COMPROMISE: "秘密鍵の漏えい",
    RevocationCause.RECORD_MISMATCH: "住民票の記録との不一致",
    RevocationCause.RENEWAL: "更新",
}

_SIGN_ONLY = {RevocationCause.MOVE, RevocationCause.NAME_CHANGE, RevocationCause.FACTS_CHANGED}


def kinds_revoked(cause: RevocationCause) -> frozenset[CertKind]:
    """The certificates a cause revokes."""
    if cause in _SIGN_ONLY:
        return frozenset({CertKind.SIGN})
    return frozenset({CertKind.SIGN, CertKind.AUTH})


_REASONS = {
    RevocationCause.MOVE: x509.ReasonFlags.affiliation_changed,
    RevocationCause.NAME_CHANGE: x509.ReasonFlags.affiliation_changed,
    RevocationCause.FACTS_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationCause.DEATH: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.LOSS: x509.ReasonFlags.key_compromise,
    RevocationCause.CARD_RETURN: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.ABOLITION: x509.ReasonFlags.cessation_of_operation,
    RevocationCause.USER_REQUEST: x509.ReasonFlags.unspecified,
    RevocationCause.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationCause.RECORD_MISMATCH: x509.ReasonFlags.privilege_withdrawn,
    RevocationCause.RENEWAL: x509.ReasonFlags.superseded,
}


def crl_reason(cause: RevocationCause) -> x509.ReasonFlags:
    """The RFC 5280 reason code a cause is published under."""
    return _REASONS[cause]
