"""Sessions and their challenges in the center's store, shared by every worker.

Taking a challenge is one DELETE … RETURNING, so two workers can never
both accept an answer to the same challenge.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, bindparam, delete, insert, select

from kofu.center import tables as t
from kofu.center.auth import Authenticated

__all__ = ["SqlSessions"]


# Built once: SQLAlchemy then reuses each compiled form instead of building and
# caching the statement anew on every request (a third of a statement's cost).
_s = t.sessions
_PUT = insert(_s)
_POP = (
    delete(_s)
    .where(_s.c.session == bindparam("b_session"), _s.c.challenge.is_not(None))
    .returning(_s.c.challenge, _s.c.challenge_expires)
)
_SUBJECT = select(_s).where(_s.c.session == bindparam("b_session"))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SqlSessions:
    """A ChallengeStore plus the authenticated subject of each session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, session: str, challenge: bytes, expires: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _PUT, {"session": session, "challenge": challenge, "challenge_expires": expires}
            )

    def pop(self, session: str) -> tuple[bytes, datetime] | None:
        """Delete the open challenge and return it: one statement, so only one worker gets it."""
        with self.engine.begin() as conn:
            row = conn.execute(_POP, {"b_session": session}).first()
        return None if row is None else (bytes(row[0]), _aware(row[1]))

    def bind(self, session: str, who: Authenticated, expires: datetime) -> None:
        """The session is now the card's: its subject for the next steps, on any worker."""
        with self.engine.begin() as conn:
            conn.execute(
                _PUT,
                {
                    "session": session,
                    "challenge": None,
                    "challenge_expires": expires,
                    "auth_serial": who.serial,
                    "not_after": who.not_after,
                    "expires": expires,
                },
            )

    def subject(self, session: str) -> tuple[Authenticated, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(_SUBJECT, {"b_session": session}).first()
        if row is None or row.auth_serial is None or row.expires is None:
            return None
        return Authenticated(row.auth_serial, _aware(row.not_after)), _aware(row.expires)
