"""The center's books in SQL: the issuance log, the sessions, the alarms, over one connection.

Every statement is built once: SQLAlchemy then reuses each compiled form
instead of building and caching the statement anew on every request (a
third of a statement's cost).  Every move is one conditional statement, so
workers racing for the same entry (a claim, a settlement, a challenge)
each see the one outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, false, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kofu.center.adapters import tables as t
from kofu.center.domain.auth import Authenticated
from kofu.center.domain.issuance import Alarm, Issuance
from kofu.center.domain.log import LogQuery
from kofu.center.domain.resume import Resume
from kofu.center.domain.sessions import SessionEntry

__all__ = ["SqlAlarms", "SqlIssuances", "SqlSessions"]

_i = t.issuances
_ROW = select(_i).where(_i.c.request_id == bindparam("b_request_id"))
_INSERT = insert(_i)
_FINISH = update(_i).where(  # SET: the keys given; only a requested issuance moves on
    _i.c.request_id == bindparam("b_request_id"), _i.c.state == "requested"
)
_CLAIM = (  # a requested issuance whose worker is gone (or gave up waiting) is taken over
    update(_i)
    .where(
        _i.c.request_id == bindparam("b_request_id"),
        _i.c.state == "requested",
        or_(_i.c.reason == bindparam("b_unanswered"), _i.c.updated_at < bindparam("b_lease_since")),
    )
    .values(updated_at=bindparam("b_now"), reason=None)
)
_SETTLE = update(_i).where(
    _i.c.request_id == bindparam("b_request_id"),
    _i.c.state == "rendered",
    _i.c.updated_at >= bindparam("b_fresh_since"),
    _i.c.kiosk == bindparam("b_kiosk"),
)
_a = t.alarms
_r = t.resumes


def _resumed_through(city: Any) -> Any:
    """The newest alarm of ``city`` its resumes answered (0: never resumed)."""
    last = select(func.max(_r.c.through_alarm)).where(_r.c.city == city).scalar_subquery()
    return func.coalesce(last, 0)


_ALARMS = (  # alarms naming the city raised since its last resume: any stops it
    select(func.count())
    .select_from(_a)
    .where(_a.c.city == bindparam("b_city"), _a.c.id > _resumed_through(bindparam("b_city")))
)
_STOPPED = (
    select(_a.c.city)
    .where(_a.c.city != "", _a.c.id > _resumed_through(_a.c.city))
    .distinct()
    .order_by(_a.c.city)
)
_RESUME = (
    insert(_r)
    .from_select(  # only a stopped city is resumed, through its newest alarm
        ["request_id", "at", "city", "operator", "reason", "through_alarm"],
        select(
            bindparam("b_request_id", type_=_r.c.request_id.type),
            bindparam("b_at", type_=_r.c.at.type),
            bindparam("b_city", type_=_r.c.city.type),
            bindparam("b_operator", type_=_r.c.operator.type),
            bindparam("b_reason", type_=_r.c.reason.type),
            func.max(_a.c.id),
        )
        .where(_a.c.city == bindparam("b_city"))
        .having(func.max(_a.c.id) > _resumed_through(bindparam("b_city"))),
    )
    .returning(_r.c.id)
)  # psycopg tells no row count of an INSERT … SELECT: the row says it
_RESUME_COLUMNS = (_r.c.request_id, _r.c.at, _r.c.city, _r.c.operator, _r.c.reason)
_RESUMED = select(*_RESUME_COLUMNS).where(_r.c.request_id == bindparam("b_request_id"))
_NAMED = select(func.count()).select_from(_a).where(_a.c.city == bindparam("b_city"))

_s = t.sessions
_PUT = insert(_s)
_POP = (
    delete(_s)
    .where(_s.c.session == bindparam("b_session"), _s.c.challenge.is_not(None))
    .returning(_s.c.challenge, _s.c.challenge_expires, _s.c.kiosk)
)
_SUBJECT = select(_s).where(_s.c.session == bindparam("b_session"))
_SPEND = (
    update(_s)
    .where(
        _s.c.session == bindparam("b_session"),
        _s.c.auth_serial.is_not(None),
        _s.c.ended.is_(false()),
        or_(_s.c.request_id.is_(None), _s.c.request_id == bindparam("b_request_id")),
    )
    .values(request_id=bindparam("b_request_id"))
)
_END = (  # only the kiosk that opened it ends it; request_id is kept (an unspent one stays so)
    update(_s)
    .where(
        _s.c.session == bindparam("b_session"),
        _s.c.kiosk == bindparam("b_kiosk"),
        _s.c.auth_serial.is_not(None),
    )
    .values(ended=True)
)
_f = t.sign_in_failures
_FAILED = insert(_f)
_FAILURES = (
    select(func.count())
    .select_from(_f)
    .where(and_(_f.c.auth_serial == bindparam("b_serial"), _f.c.at >= bindparam("b_since")))
)
_ABANDONED = (  # signed in, never spent on a request: opened within the window (expires − life)
    select(func.count())
    .select_from(_s)
    .where(
        _s.c.auth_serial == bindparam("b_serial"),
        _s.c.request_id.is_(None),
        _s.c.expires >= bindparam("b_opened_since"),
    )
)

_BOTH = select(_FAILURES.scalar_subquery(), _ABANDONED.scalar_subquery())


_WITHOUT_JOB = [c for c in _i.c if c.name != "print_job"]  # the log as read: no PDFs


def _issuance(row: Any) -> Issuance:
    values = dict(row._mapping)
    if values.get("print_job") is not None:
        values["print_job"] = bytes(values["print_job"])
    values["kiosk"] = values["kiosk"] or ""
    return Issuance(**values)


class SqlIssuances:
    """The issuance log on one connection of the unit of work."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, request_id: str) -> Issuance | None:
        row = self.conn.execute(_ROW, {"b_request_id": request_id}).first()
        return None if row is None else _issuance(row)

    def add(self, issuance: Issuance) -> bool:
        try:
            self.conn.execute(_INSERT, issuance.__dict__)
        except IntegrityError:  # the request id is taken; the unit of work rolls back
            return False
        return True

    def finish(self, request_id: str, state: str, at: datetime, **values: Any) -> bool:
        params = {"b_request_id": request_id, "state": state, "updated_at": at} | values
        return bool(self.conn.execute(_FINISH, params).rowcount)

    def claim(self, request_id: str, now: datetime, lease_since: datetime, unanswered: str) -> bool:
        params = {
            "b_request_id": request_id,
            "b_now": now,
            "b_lease_since": lease_since,
            "b_unanswered": unanswered,
        }
        return bool(self.conn.execute(_CLAIM, params).rowcount)

    def settle(
        self, request_id: str, kiosk: str, fresh_since: datetime, changes: dict[str, Any]
    ) -> bool:
        params = {"b_request_id": request_id, "b_fresh_since": fresh_since, "b_kiosk": kiosk}
        return bool(self.conn.execute(_SETTLE, params | changes).rowcount)

    def void_unconfirmed(
        self, before: datetime, now: datetime, reason: str, request_id: str | None = None
    ) -> int:
        where = [_i.c.state == "rendered", _i.c.updated_at < before]
        if request_id is not None:
            where.append(_i.c.request_id == request_id)
        done = self.conn.execute(
            update(_i)
            .where(*where)
            .values(state="voided", reason=reason, fee=0, print_job=None, updated_at=now)
        )
        return int(done.rowcount or 0)

    def stuck(self, before: datetime, limit: int) -> list[Issuance]:
        rows = self.conn.execute(
            select(_i).where(_i.c.state == "requested", _i.c.updated_at < before).limit(limit)
        )
        return [_issuance(row) for row in rows]

    def untold(self, limit: int) -> list[Issuance]:
        found = select(_i).where(_i.c.city_told.is_(False), _i.c.state == "printed")
        found = found.order_by(_i.c.updated_at, _i.c.request_id)  # the longest owed first
        return [_issuance(row) for row in self.conn.execute(found.limit(limit))]

    def told_many(self, request_ids: Sequence[str]) -> int:
        done = self.conn.execute(
            update(_i)
            .where(_i.c.request_id.in_(list(request_ids)), _i.c.city_told.is_(False))
            .values(city_told=True)
        )
        return int(done.rowcount or 0)

    def settlement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(_i.c.city, _i.c.chain, func.count(), func.sum(_i.c.copies), func.sum(_i.c.fee))
            .where(_i.c.state == "printed", _i.c.created_at >= start, _i.c.created_at < end)
            .group_by(_i.c.city, _i.c.chain)
            .order_by(_i.c.city, _i.c.chain)
        )
        return [
            {"city": r[0], "chain": r[1], "issuances": r[2], "copies": int(r[3]), "fees": int(r[4])}
            for r in rows
        ]

    def search(self, query: LogQuery) -> list[Issuance]:
        where = [
            column == value
            for column, value in (
                (_i.c.city, query.city),
                (_i.c.chain, query.chain),
                (_i.c.state, query.state),
            )
            if value
        ]
        if query.since is not None:
            where.append(_i.c.created_at >= query.since)
        if query.until is not None:
            where.append(_i.c.created_at < query.until)
        rows = self.conn.execute(
            select(*_WITHOUT_JOB)
            .where(*where)
            .order_by(_i.c.created_at.desc(), _i.c.request_id)
            .limit(query.limit)
        )
        return [_issuance(row) for row in rows]

    def states(self) -> dict[str, int]:
        rows = self.conn.execute(select(_i.c.state, func.count()).group_by(_i.c.state))
        return {str(r[0]): int(r[1]) for r in rows}

    def per_city(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(_i.c.city, _i.c.state, func.count())
            .group_by(_i.c.city, _i.c.state)
            .order_by(_i.c.city, _i.c.state)
        )
        return [{"city": r[0], "state": r[1], "count": int(r[2])} for r in rows]


class SqlAlarms:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def raise_alarm(self, alarm: Alarm) -> None:
        self.conn.execute(insert(_a).values(**alarm.__dict__))

    def count_for(self, city: str) -> int:
        return int(self.conn.execute(_ALARMS, {"b_city": city}).scalar_one())

    def all(self) -> list[Alarm]:
        rows = self.conn.execute(
            select(_a.c.at, _a.c.city, _a.c.kind, _a.c.detail).order_by(_a.c.id)
        )
        return [Alarm(r[0], r[1], r[2], r[3]) for r in rows]

    def stopped(self) -> list[str]:
        return [str(r[0]) for r in self.conn.execute(_STOPPED)]

    def ever_named(self, city: str) -> bool:
        return bool(self.conn.execute(_NAMED, {"b_city": city}).scalar_one())

    def resume(self, resume: Resume) -> bool:
        values = {f"b_{k}": v for k, v in resume.__dict__.items()}
        try:
            return self.conn.execute(_RESUME, values).first() is not None
        except IntegrityError:  # the request id is taken; the unit of work rolls back
            return False

    def resumed(self, request_id: str) -> Resume | None:
        row = self.conn.execute(_RESUMED, {"b_request_id": request_id}).first()
        return None if row is None else Resume(*row)

    def resumes(self) -> list[Resume]:
        rows = self.conn.execute(select(*_RESUME_COLUMNS).order_by(_r.c.id))
        return [Resume(*r) for r in rows]


class SqlSessions:
    """Challenges and sessions; taking a challenge is one DELETE … RETURNING."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None:
        values = {"session": session, "challenge": challenge, "challenge_expires": expires}
        self.conn.execute(_PUT, values | {"kiosk": kiosk})

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        row = self.conn.execute(_POP, {"b_session": session}).first()
        return None if row is None else (bytes(row[0]), row[1], str(row[2] or ""))

    def bind(
        self,
        session: str,
        who: Authenticated,
        expires: datetime,
        kiosk: str = "",
        certificate: bytes | None = None,
    ) -> None:
        self.conn.execute(
            _PUT,
            {
                "session": session,
                "challenge": None,
                "challenge_expires": expires,
                "auth_serial": who.serial,
                "not_after": who.not_after,
                "expires": expires,
                "kiosk": kiosk,
                "certificate": certificate,
            },
        )

    def subject(self, session: str) -> SessionEntry | None:
        row = self.conn.execute(_SUBJECT, {"b_session": session}).first()
        if row is None or row.auth_serial is None or row.expires is None:
            return None
        return SessionEntry(
            Authenticated(row.auth_serial, row.not_after),
            row.expires,
            str(row.kiosk or ""),
            row.request_id,
            None if row.certificate is None else bytes(row.certificate),
            bool(row.ended),
        )

    def spend(self, session: str, request_id: str) -> bool:
        done = self.conn.execute(_SPEND, {"b_session": session, "b_request_id": request_id})
        return bool(done.rowcount)

    def end(self, session: str, kiosk: str) -> bool:
        return bool(self.conn.execute(_END, {"b_session": session, "b_kiosk": kiosk}).rowcount)

    def failed(self, serial: str, reason: str, at: datetime) -> None:
        self.conn.execute(_FAILED, {"at": at, "auth_serial": serial, "reason": reason})

    def forget(self, sessions_before: datetime, failures_before: datetime) -> int:
        ended = or_(
            _s.c.expires < sessions_before,
            and_(_s.c.expires.is_(None), _s.c.challenge_expires < sessions_before),
        )
        gone = self.conn.execute(delete(_s).where(ended)).rowcount or 0
        gone += self.conn.execute(delete(_f).where(_f.c.at < failures_before)).rowcount or 0
        return int(gone)

    def failures_since(self, serial: str, since: datetime, opened_since: datetime) -> int:
        window = {"b_serial": serial, "b_since": since, "b_opened_since": opened_since}
        failed, abandoned = self.conn.execute(_BOTH, window).one()  # one round trip for both
        return int(failed) + int(abandoned)
