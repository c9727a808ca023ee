"""The center's books in memory: a unit of work with the SQL one's semantics, for fast tests.

One lock is held for the whole unit of work, so units are serialised like
SQL transactions at their strictest; a unit works on a copy of the books
and only ``commit`` makes its changes seen, so a unit left without commit
changes nothing.  Each move mirrors the conditional statement of
``kofu.center.adapters.repository``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from kofu.center.domain.auth import Authenticated
from kofu.center.domain.issuance import Alarm, Issuance
from kofu.center.domain.log import LogQuery
from kofu.center.domain.resume import Resume
from kofu.center.domain.sessions import SessionEntry

__all__ = ["MemoryCenter", "MemoryCenterUnitOfWork"]


@dataclass(frozen=True)
class _Session:
    challenge: bytes | None
    challenge_expires: datetime
    kiosk: str
    auth_serial: str | None = None
    not_after: datetime | None = None
    expires: datetime | None = None
    request_id: str | None = None
    certificate: bytes | None = None
    ended: bool = False


@dataclass
class _Books:
    issuances: dict[str, Issuance] = field(default_factory=dict)
    sessions: dict[str, _Session] = field(default_factory=dict)
    failures: list[tuple[datetime, str, str]] = field(default_factory=list)  # at, serial, reason
    alarms: list[Alarm] = field(default_factory=list)
    resumes: list[tuple[Resume, int]] = field(default_factory=list)  # and the alarms it answered

    def copy(self) -> _Books:
        return _Books(
            dict(self.issuances),
            dict(self.sessions),
            list(self.failures),
            list(self.alarms),
            list(self.resumes),
        )


class MemoryCenter:
    """The store: call it for a new unit of work (the ``UnitsOfWork`` the services take)."""

    def __init__(self) -> None:
        self.books = _Books()
        self.lock = threading.Lock()

    def __call__(self) -> MemoryCenterUnitOfWork:
        return MemoryCenterUnitOfWork(self)


class MemoryCenterUnitOfWork:
    def __init__(self, store: MemoryCenter) -> None:
        self._store = store
        self._books: _Books | None = None

    def __enter__(self) -> Self:
        if not self._store.lock.acquire(timeout=10):  # a unit opened inside another one
            raise RuntimeError("a unit of work waited 10 s for another: nested units?")
        self._books = self._store.books.copy()
        self.issuances = _Issuances(self._books)
        self.sessions = _Sessions(self._books)
        self.alarms = _Alarms(self._books)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._books = None
        self._store.lock.release()

    def commit(self) -> None:
        assert self._books is not None
        self._store.books = self._books.copy()


class _Issuances:
    def __init__(self, books: _Books) -> None:
        self.b = books

    def get(self, request_id: str) -> Issuance | None:
        return self.b.issuances.get(request_id)

    def add(self, issuance: Issuance) -> bool:
        if issuance.request_id in self.b.issuances:
            return False
        self.b.issuances[issuance.request_id] = issuance
        return True

    def _move(self, request_id: str, **values: Any) -> None:
        self.b.issuances[request_id] = replace(self.b.issuances[request_id], **values)

    def finish(self, request_id: str, state: str, at: datetime, **values: Any) -> bool:
        found = self.b.issuances.get(request_id)
        if found is None or found.state != "requested":
            return False
        self._move(request_id, state=state, updated_at=at, **values)
        return True

    def claim(self, request_id: str, now: datetime, lease_since: datetime, unanswered: str) -> bool:
        found = self.b.issuances.get(request_id)
        if found is None or found.state != "requested":
            return False
        if not (found.reason == unanswered or found.updated_at < lease_since):
            return False
        self._move(request_id, updated_at=now, reason=None)
        return True

    def settle(
        self, request_id: str, kiosk: str, fresh_since: datetime, changes: dict[str, Any]
    ) -> bool:
        found = self.b.issuances.get(request_id)
        if found is None or found.state != "rendered" or found.kiosk != kiosk:
            return False
        if found.updated_at < fresh_since:
            return False
        self._move(request_id, **changes)
        return True

    def void_unconfirmed(
        self, before: datetime, now: datetime, reason: str, request_id: str | None = None
    ) -> int:
        due = [
            i.request_id
            for i in self.b.issuances.values()
            if i.state == "rendered"
            and i.updated_at < before
            and (request_id is None or i.request_id == request_id)
        ]
        for key in due:
            self._move(key, state="voided", reason=reason, fee=0, print_job=None, updated_at=now)
        return len(due)

    def stuck(self, before: datetime, limit: int) -> list[Issuance]:
        found = [
            i for i in self.b.issuances.values() if i.state == "requested" and i.updated_at < before
        ]
        return found[:limit]

    def untold(self, limit: int) -> list[Issuance]:
        found = [i for i in self.b.issuances.values() if i.state == "printed" and not i.city_told]
        return found[:limit]

    def told_many(self, request_ids: Sequence[str]) -> int:
        told = 0
        for request_id in request_ids:
            found = self.b.issuances.get(request_id)
            if found is not None and not found.city_told:
                self._move(request_id, city_told=True)
                told += 1
        return told

    def settlement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for i in self.b.issuances.values():
            if i.state != "printed" or not start <= i.created_at < end:
                continue
            row = rows.setdefault(
                (i.city, i.chain),
                {"city": i.city, "chain": i.chain, "issuances": 0, "copies": 0, "fees": 0},
            )
            row["issuances"] += 1
            row["copies"] += i.copies
            row["fees"] += i.fee
        return [rows[key] for key in sorted(rows)]

    def search(self, query: LogQuery) -> list[Issuance]:
        found = [
            replace(i, print_job=None)
            for i in self.b.issuances.values()
            if (query.city is None or i.city == query.city)
            and (query.chain is None or i.chain == query.chain)
            and (query.state is None or i.state == query.state)
            and (query.since is None or i.created_at >= query.since)
            and (query.until is None or i.created_at < query.until)
        ]
        found.sort(key=lambda i: i.request_id)
        found.sort(key=lambda i: i.created_at, reverse=True)
        return found[: query.limit]

    def states(self) -> dict[str, int]:
        return dict(Counter(i.state for i in self.b.issuances.values()))

    def per_city(self) -> list[dict[str, Any]]:
        counts = Counter((i.city, i.state) for i in self.b.issuances.values())
        return [{"city": c, "state": s, "count": n} for (c, s), n in sorted(counts.items())]


class _Alarms:
    def __init__(self, books: _Books) -> None:
        self.b = books

    def raise_alarm(self, alarm: Alarm) -> None:
        self.b.alarms.append(alarm)

    def _through(self, city: str) -> int:
        return max((n for r, n in self.b.resumes if r.city == city), default=0)

    def _newest(self, city: str) -> int:
        return max((n for n, a in enumerate(self.b.alarms, 1) if a.city == city), default=0)

    def count_for(self, city: str) -> int:
        through = self._through(city)
        return sum(a.city == city and n > through for n, a in enumerate(self.b.alarms, 1))

    def all(self) -> list[Alarm]:
        return list(self.b.alarms)

    def stopped(self) -> list[str]:
        return sorted({a.city for a in self.b.alarms if a.city and self.count_for(a.city)})

    def ever_named(self, city: str) -> bool:
        return any(a.city == city for a in self.b.alarms)

    def resume(self, resume: Resume) -> bool:
        if self.resumed(resume.request_id) is not None or not self.count_for(resume.city):
            return False
        self.b.resumes.append((resume, self._newest(resume.city)))
        return True

    def resumed(self, request_id: str) -> Resume | None:
        return next((r for r, _ in self.b.resumes if r.request_id == request_id), None)

    def resumes(self) -> list[Resume]:
        return [r for r, _ in self.b.resumes]


class _Sessions:
    def __init__(self, books: _Books) -> None:
        self.b = books

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None:
        if session in self.b.sessions:
            raise KeyError(f"session {session} exists")  # the primary key, as on SQL
        self.b.sessions[session] = _Session(challenge, expires, kiosk)

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        found = self.b.sessions.get(session)
        if found is None or found.challenge is None:
            return None
        del self.b.sessions[session]
        return found.challenge, found.challenge_expires, found.kiosk

    def bind(
        self,
        session: str,
        who: Authenticated,
        expires: datetime,
        kiosk: str = "",
        certificate: bytes | None = None,
    ) -> None:
        if session in self.b.sessions:
            raise KeyError(f"session {session} exists")
        self.b.sessions[session] = _Session(
            None, expires, kiosk, who.serial, who.not_after, expires, None, certificate
        )

    def subject(self, session: str) -> SessionEntry | None:
        s = self.b.sessions.get(session)
        if s is None or s.auth_serial is None or s.expires is None or s.not_after is None:
            return None
        who = Authenticated(s.auth_serial, s.not_after)
        return SessionEntry(who, s.expires, s.kiosk, s.request_id, s.certificate, s.ended)

    def spend(self, session: str, request_id: str) -> bool:
        s = self.b.sessions.get(session)
        if s is None or s.auth_serial is None or s.ended or s.request_id not in (None, request_id):
            return False
        self.b.sessions[session] = replace(s, request_id=request_id)
        return True

    def end(self, session: str, kiosk: str) -> bool:
        s = self.b.sessions.get(session)
        if s is None or s.auth_serial is None or s.kiosk != kiosk:
            return False
        self.b.sessions[session] = replace(s, ended=True)
        return True

    def failed(self, serial: str, reason: str, at: datetime) -> None:
        self.b.failures.append((at, serial, reason))

    def forget(self, sessions_before: datetime, failures_before: datetime) -> int:
        def ended(s: _Session) -> bool:
            if s.expires is not None:
                return s.expires < sessions_before
            return s.challenge_expires < sessions_before

        gone = [key for key, s in self.b.sessions.items() if ended(s)]
        for key in gone:
            del self.b.sessions[key]
        kept = [f for f in self.b.failures if f[0] >= failures_before]
        dropped = len(self.b.failures) - len(kept)
        self.b.failures[:] = kept
        return len(gone) + dropped

    def failures_since(self, serial: str, since: datetime, opened_since: datetime) -> int:
        failed = sum(at >= since and who == serial for at, who, _ in self.b.failures)
        abandoned = sum(
            s.auth_serial == serial
            and s.request_id is None
            and s.expires is not None
            and s.expires >= opened_since
            for s in self.b.sessions.values()
        )
        return failed + abandoned
