"""The city office's staff rules: roles, what each may do, why a record may be looked at.

A 市民課 works with named staff accounts, each with one role.  The roles
follow the desks of a real office: the counter (窓口), the My Number card
desk, the supervisor who decides what the law reserves to a responsible
officer (issuance blocks, support measures, corrections, PIN resets,
domicile approvals), the auditor who reads the audit trail and nothing
else, and planning (evaluation sheets).  Every look at an individual
number or at a support-measure subject's record names a purpose from a
fixed list, so that the trail says why, not only who.

The audit trail is a hash chain: each row's hash covers its content and the
hash before it, so a row altered or deleted anywhere breaks the chain from
there on (``chain_hash``/``verify_chain``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kofu.core.errors import InvalidInput

__all__ = [
    "COUNTER_FEES",
    "GENESIS",
    "PERMISSIONS",
    "PURPOSES",
    "RESTRICTED_EVENTS",
    "AuditEntry",
    "ChainBreak",
    "Role",
    "chain_hash",
    "check_password_strength",
    "check_user_name",
    "mask_number",
    "verify_chain",
]


class Role(StrEnum):
    """One staff account's desk."""

    CLERK = "clerk"  # 窓口: residents, certificates, register notifications
    DESK = "desk"  # マイナンバーカード交付窓口
    SUPERVISOR = "supervisor"  # 係長・課長: blocks, support measures, corrections, PIN resets
    AUDITOR = "auditor"  # 監査: the audit trail only, never the registers
    PLANNING = "planning"  # 企画: evaluation sheets

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.CLERK: "窓口担当 Counter clerk",
    Role.DESK: "カード交付担当 Card desk",
    Role.SUPERVISOR: "監督者 Supervisor",
    Role.AUDITOR: "監査担当 Auditor",
    Role.PLANNING: "企画担当 Planning",
}

_COUNTER = {Role.CLERK, Role.SUPERVISOR}
_CARD_DESK = {Role.DESK, Role.SUPERVISOR}

# what each screen or action needs; a role not named is refused
PERMISSIONS: Mapping[str, frozenset[Role]] = {
    "residents.search": frozenset(_COUNTER | _CARD_DESK),
    "residents.view": frozenset(_COUNTER | _CARD_DESK),
    "certificates.issue": frozenset(_COUNTER),
    "events.apply": frozenset(_COUNTER),
    "events.restricted": frozenset({Role.SUPERVISOR}),  # blocks, support measures
    "cards.desk": frozenset(_CARD_DESK),
    "cards.reset_pin": frozenset({Role.SUPERVISOR}),
    "domicile.approve": frozenset({Role.SUPERVISOR}),
    "audit.read": frozenset({Role.AUDITOR}),  # separation of duties: not those it records
    "planning.sheets": frozenset({Role.PLANNING, Role.SUPERVISOR}),
}

# event kinds only a supervisor applies: the law gives these to a responsible officer
RESTRICTED_EVENTS = frozenset(
    {
        "support_measure",
        "support_measure_extend",
        "support_measure_end",
        "issuance_block",
        "issuance_block_release",
        "issuance_block_temporary_release",
    }
)

# why a record with an individual number or a protected person's record is opened
PURPOSES: Mapping[str, str] = {
    "identity_check": "窓口での本人確認 Identity check at the counter",
    "certificate": "証明書の交付 Certificate issuance",
    "register_change": "住民異動届の処理 Register change",
    "card_desk": "マイナンバーカード事務 My Number card desk",
    "support_measure": "支援措置の審査 Support-measure review",
    "tax": "税務事務 Tax assessment",
    "inquiry": "法令に基づく照会への回答 Answer to a lawful inquiry",
}

# 窓口手数料 per copy (戸籍 documents at the fee the national ordinance sets)
COUNTER_FEES: Mapping[str, int] = {
    "juminhyo": 300,
    "johyo": 300,
    "kisai": 300,
    "johyo-kisai": 300,
    "inkan": 300,
    "kazei": 300,
    "shotoku": 300,
    "koseki-zenbu": 450,
    "koseki-kojin": 450,
    "fuhyo": 300,
    "tenshutsu": 0,  # 転出証明書: free of charge
}

GENESIS = "0" * 64  # the hash before the first row


def check_user_name(name: str) -> str:
    """A staff user name: 3–32 lower-case letters, digits, '.', '-' or '_'."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789.-_")
    if not 3 <= len(name) <= 32 or not set(name) <= allowed:
        raise InvalidInput(
            "a user name is 3 to 32 lower-case letters, digits, '.', '-' or '_'", field="user"
        )
    return name


def check_password_strength(password: str, user: str) -> None:
    """At least 12 characters, not the user name: staff passwords guard the registers."""
    if len(password) < 12:
        raise InvalidInput("a staff password has at least 12 characters", field="password")
    if len(password) > 256:
        raise InvalidInput("a staff password has at most 256 characters", field="password")
    if user.lower() in password.lower():
        raise InvalidInput("a staff password may not contain the user name", field="password")


def mask_number(number: str) -> str:
    """An individual number as the screen shows it before a purpose is given."""
    return "●" * 8 + number[-4:] if len(number) == 12 else "●" * len(number)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit trail (監査証跡)."""

    seq: int
    at: str  # ISO-8601 instant
    staff: str
    role: str
    action: str
    resident: str
    purpose: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """What the hash covers: everything but the hash itself."""
        return {
            "seq": self.seq,
            "at": self.at,
            "staff": self.staff,
            "role": self.role,
            "action": self.action,
            "resident": self.resident,
            "purpose": self.purpose,
            "detail": dict(self.detail),
            "prev_hash": self.prev_hash,
        }


def chain_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a row's body (sorted keys, no spaces)."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain stops holding, and why."""

    seq: int
    problem: str  # altered, missing, reordered, truncated


def verify_chain(
    entries: Iterable[AuditEntry], anchor: tuple[int, str] | None = None
) -> list[ChainBreak]:
    """Every break in the chain; empty when the trail is whole.

    ``anchor`` is the last (seq, hash) written outside the database: a trail
    cut short at its end (the newest rows deleted) is found against it.
    """
    breaks: list[ChainBreak] = []
    prev, expected, seen = GENESIS, 1, {}
    for entry in entries:
        if entry.seq != expected:
            breaks.append(ChainBreak(expected, "missing" if entry.seq > expected else "reordered"))
        if entry.prev_hash != prev:
            breaks.append(ChainBreak(entry.seq, "chain_broken"))
        if chain_hash(entry.body()) != entry.hash:
            breaks.append(ChainBreak(entry.seq, "altered"))
        seen[entry.seq] = entry.hash
        prev, expected = entry.hash, entry.seq + 1
    if anchor is not None:
        seq, digest = anchor
        if seq not in seen:
            breaks.append(ChainBreak(seq, "truncated"))
        elif seen[seq] != digest:
            breaks.append(ChainBreak(seq, "altered"))
    return breaks
