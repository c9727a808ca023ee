"""The office's use cases: staff accounts, signing in and out, sessions, the audit trail, search.

Passwords are kept as argon2id hashes (memory-hard, RFC 9106).  A session is
a random token in a cookie; the database keeps only its SHA-256, so a copy
of the database opens no session.  A session ends after ``idle`` without a
request and ``absolute`` after sign-in, whichever comes first.  An account
is locked for ``lockout`` after ``max_failures`` wrong passwords in a row.

The audit trail is appended in its own short transaction, under a lock, and
the newest (seq, hash) is written to an anchor file outside the database, so
``verify_audit`` finds a row altered or deleted anywhere, the newest included.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.domain.office import (
    GENESIS,
    PERMISSIONS,
    PURPOSES,
    AuditEntry,
    ChainBreak,
    Role,
    chain_hash,
    check_password_strength,
    check_user_name,
    verify_chain,
)
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, Refused

__all__ = [
    "Auditor",
    "SessionPolicy",
    "StaffSession",
    "add_staff",
    "allowed",
    "find_session",
    "search_residents",
    "sign_in",
    "sign_out",
    "verify_audit",
]

_HASHER = PasswordHasher()  # argon2id, 64 MiB, 3 passes (the library's RFC 9106 profile)
_DUMMY = _HASHER.hash("a password nobody has: equal time for unknown users")


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives and how many wrong passwords lock an account."""

    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(hours=8)
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class StaffSession:
    """Who is signed in on this request."""

    user: str
    role: Role
    csrf: str
    token_hash: str

    def may(self, permission: str) -> bool:
        return allowed(self.role, permission)


def allowed(role: Role, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_staff(
    *, uow: OfficeUnitOfWork, user: str, role: str, password: str, clock: Clock
) -> dict[str, Any]:
    """Create an account, or set a new role and password (its sessions end)."""
    check_user_name(user)
    try:
        which = Role(role)
    except ValueError as exc:
        names = "|".join(r.value for r in Role)
        raise InvalidInput(f"role is one of {names}, not {role!r}", field="role") from exc
    check_password_strength(password, user)
    digest = _HASHER.hash(password)
    with uow:
        created = uow.office.save_staff(user, which.value, digest, clock.now())
        uow.commit()
    return {"city": uow.city_code, "user": user, "role": which.value, "created": created}


def sign_in(
    *,
    uow: OfficeUnitOfWork,
    user: str,
    password: str,
    clock: Clock,
    policy: SessionPolicy,
    auditor: Auditor,
) -> tuple[str, StaffSession]:
    """A new session (a fresh token, never one the browser brought) or a refusal.

    The refusal is the same words for an unknown user and a wrong password.
    """
    now = clock.now()
    with uow:
        member = uow.office.staff_member(user) if len(user) <= 32 else None
        if member is not None and member.locked_until is not None and member.locked_until > now:
            uow.commit()
            auditor.record(user, member.role, "sign_in_locked", "", "", {})
            raise Refused(
                "account_locked",
                "this account is locked after repeated failures; try later or ask a supervisor",
                message_ja="パスワードの誤りが続いたため、このアカウントはロックされています。",
            )
        if not _verify(member.password_hash if member else _DUMMY, password) or member is None:
            if member is not None:
                failed = member.failed + 1
                lock = now + policy.lockout if failed >= policy.max_failures else None
                uow.office.record_failure(user, 0 if lock else failed, lock)
                uow.commit()
                auditor.record(user, member.role, "sign_in_failed", "", "", {"locked": bool(lock)})
            raise Refused(
                "sign_in_failed",
                "the user name or the password is wrong",
                message_ja="ユーザー名またはパスワードが違います。",
            )
        if _HASHER.check_needs_rehash(member.password_hash):
            uow.office.rehash(user, _HASHER.hash(password))
        uow.office.record_failure(user, 0, None)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        uow.office.open_session(_token_hash(token), user, csrf, now)
        uow.commit()
    auditor.record(user, member.role, "sign_in", "", "", {})
    return token, StaffSession(user, Role(member.role), csrf, _token_hash(token))


def _verify(digest: str, password: str) -> bool:
    try:
        return _HASHER.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def find_session(
    *, uow: OfficeUnitOfWork, token: str | None, clock: Clock, policy: SessionPolicy
) -> StaffSession | None:
    """The session behind a cookie, if it is still alive; an expired one is closed."""
    if not token or len(token) > 128:
        return None
    key, now = _token_hash(token), clock.now()
    with uow:
        row = uow.office.session(key)
        if row is None:
            return None
        if now - row.seen_at > policy.idle or now - row.created_at > policy.absolute:
            uow.office.close_session(key)
            uow.commit()
            return None
        uow.office.touch_session(key, now)
        uow.commit()
    return StaffSession(row.user_name, Role(row.role), row.csrf, key)


def sign_out(*, uow: OfficeUnitOfWork, session: StaffSession) -> None:
    with uow:
        uow.office.close_session(session.token_hash)
        uow.commit()


def csrf_ok(session: StaffSession, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf.encode(), given.encode())


def check_purpose(purpose: object) -> str:
    """One of the purposes on the list; anything else is refused before anything is shown."""
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise InvalidInput("choose the purpose of this look from the list", field="purpose")
    return purpose


class Auditor:
    """Appends to the city's audit trail, one short transaction a row, in order."""

    def __init__(self, new_uow: Callable[[], OfficeUnitOfWork], clock: Clock, anchor: Path) -> None:
        self.new_uow, self.clock, self.anchor = new_uow, clock, anchor
        self._lock = threading.Lock()

    def record(
        self,
        staff: str,
        role: str,
        action: str,
        resident: str,
        purpose: str,
        detail: dict[str, Any],
    ) -> AuditEntry:
        """The row is committed (and anchored) before this returns: look only after it."""
        with self._lock:
            for _ in range(5):  # another process appended the same seq: read the head again
                with contextlib.suppress(IntegrityError):
                    return self._append(staff, role, action, resident, purpose, detail)
            raise Refused("audit_busy", "the audit trail is busy; try again")

    def _append(
        self,
        staff: str,
        role: str,
        action: str,
        resident: str,
        purpose: str,
        detail: dict[str, Any],
    ) -> AuditEntry:
        with self.new_uow() as uow:
            last = uow.office.last_audit()
            entry = AuditEntry(
                seq=(last.seq + 1) if last else 1,
                at=self.clock.now().isoformat(timespec="seconds"),
                staff=staff,
                role=role,
                action=action,
                resident=resident,
                purpose=purpose,
                detail=detail,
                prev_hash=last.hash if last else GENESIS,
                hash="",
            )
            entry = replace(entry, hash=chain_hash(entry.body()))
            uow.office.append_audit(entry)
            uow.commit()
        write_anchor(self.anchor, entry)
        return entry


def write_anchor(path: Path, entry: AuditEntry) -> None:
    """The newest (seq, hash), replaced atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"seq": entry.seq, "hash": entry.hash}, out)
    os.replace(tmp, path)


def read_anchor(path: Path) -> tuple[int, str] | None:
    try:
        data = json.loads(path.read_text())
        return int(data["seq"]), str(data["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return (-1, "unreadable")


def list_audit(*, uow: OfficeUnitOfWork, since: date | None) -> list[dict[str, Any]]:
    with uow:
        entries = uow.office.audit_entries(since.isoformat() if since else None)
    return [e.body() | {"hash": e.hash} for e in entries]


def verify_audit(*, uow: OfficeUnitOfWork, anchor: Path) -> dict[str, Any]:
    """Check the whole chain and the anchor; ``ok`` only when nothing is broken."""
    with uow:
        entries = uow.office.audit_entries()
    head = read_anchor(anchor)
    breaks = verify_chain(entries, head)
    if head is None and entries:  # the anchor removed too: the newest rows cannot be vouched for
        breaks.append(ChainBreak(entries[-1].seq, "anchor_missing"))
    return {
        "city": uow.city_code,
        "ok": not breaks,
        "rows": len(entries),
        "head": entries[-1].hash if entries else GENESIS,
        "breaks": [{"seq": b.seq, "problem": b.problem} for b in breaks],
    }


def search_residents(
    *,
    uow: OfficeUnitOfWork,
    name: str,
    kana: str,
    birth_date: date | None,
    address: str,
    today: date,
) -> list[dict[str, Any]]:
    """Matching records, a protected person's address left out of the list."""
    if not (name or kana or birth_date or address):
        return []
    with uow:
        found = uow.office.search_residents(
            uow.registers, name=name, kana=kana, birth_date=birth_date, address=address
        )
        out = []
        for p in found:
            protected = any(
                m.active_on(today) for m in uow.registers.support_measures(p.resident_code)
            )
            out.append(
                {
                    "resident_code": p.resident_code,
                    "name": p.name,
                    "kana": p.kana,
                    "birth_date": p.birth_date,
                    "address": "" if protected else p.address.text,
                    "status": p.status.value,
                    "protected": protected,
                }
            )
    return out
