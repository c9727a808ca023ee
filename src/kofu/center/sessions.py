"""Sessions and their challenges in the center's store, shared by every worker.

Taking a challenge is one DELETE … RETURNING, so two workers can never
both accept an answer to the same challenge.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select

from kofu.center import tables as t
from kofu.center.auth import Authenticated

__all__ = ["SqlSessions"]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SqlSessions:
    """A ChallengeStore plus the authenticated subject of each session."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, session: str, challenge: bytes, expires: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.sessions).values(
                    session=session, challenge=challenge, challenge_expires=expires
                )
            )

    def pop(self, session: str) -> tuple[bytes, datetime] | None:
        """Delete the open challenge and return it: one statement, so only one worker gets it."""
        s = t.sessions
        with self.engine.begin() as conn:
            row = conn.execute(
                delete(s)
                .where(s.c.session == session, s.c.challenge.is_not(None))
                .returning(s.c.challenge, s.c.challenge_expires)
            ).first()
        return None if row is None else (bytes(row[0]), _aware(row[1]))

    def bind(self, session: str, who: Authenticated, expires: datetime) -> None:
        """The session is now the card's: its subject for the next steps, on any worker."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.sessions).values(
                    session=session,
                    challenge=None,
                    challenge_expires=expires,
                    auth_serial=who.serial,
                    not_after=who.not_after,
                    expires=expires,
                )
            )

    def subject(self, session: str) -> tuple[Authenticated, datetime] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.sessions).where(t.sessions.c.session == session)).first()
        if row is None or row.auth_serial is None or row.expires is None:
            return None
        return Authenticated(row.auth_serial, _aware(row.not_after)), _aware(row.expires)
