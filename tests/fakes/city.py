"""A city's store in memory, for fast service tests: the outbox, with the SQL unit's semantics.

Only the books a test module needs are kept here so far (the outbox); the
others raise, so a service reaching for them is noticed rather than served
something made up.  A unit works on a copy under one lock; only ``commit``
makes its changes seen; a unit may be entered again after it ended, as the
SQL one is by the city's services.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from kofu.city.domain.city import CityProfile
from kofu.city.domain.ports import OutboxMessage

__all__ = ["MemoryCity"]


@dataclass(frozen=True)
class _Kept:
    message: OutboxMessage
    created_at: datetime
    delivered_at: datetime | None = None
    last_error: str | None = None


class MemoryCity:
    """The store and its unit of work in one: ``with city: ...; city.commit()``."""

    def __init__(self, profile: CityProfile | None = None) -> None:
        self.kept: dict[str, _Kept] = {}
        self.profile = profile
        self._lock = threading.Lock()
        self._open: dict[str, _Kept] | None = None

    def __enter__(self) -> Self:
        if not self._lock.acquire(timeout=10):
            raise RuntimeError("a unit of work waited 10 s for another: nested units?")
        self._open = dict(self.kept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = None
        self._lock.release()

    def commit(self) -> None:
        assert self._open is not None
        self.kept = dict(self._open)

    @property
    def outbox(self) -> _Outbox:
        assert self._open is not None, "the outbox is read inside a unit of work"
        return _Outbox(self._open)

    def city(self) -> CityProfile:
        assert self.profile is not None
        return self.profile

    def __getattr__(self, name: str) -> Any:  # registers, cards, juki, store_requests
        raise NotImplementedError(f"the in-memory city does not keep {name} yet")


class _Outbox:
    def __init__(self, kept: dict[str, _Kept]) -> None:
        self.kept = kept

    def add(self, *, target: str, kind: str, payload: dict[str, Any], at: datetime) -> str:
        message_id = str(uuid.uuid4())
        self.kept[message_id] = _Kept(OutboxMessage(message_id, target, kind, payload, 0), at)
        return message_id

    def pending(self, target: str, limit: int = 100) -> list[OutboxMessage]:
        due = [k for k in self.kept.values() if k.message.target == target and not k.delivered_at]
        due.sort(key=lambda k: (k.created_at, k.message.message_id))
        return [k.message for k in due[:limit]]

    def delivered(self, message_id: str, at: datetime) -> None:
        self.kept[message_id] = replace(self.kept[message_id], delivered_at=at)

    def failed(self, message_id: str, error: str) -> None:
        kept = self.kept[message_id]
        message = replace(kept.message, attempts=kept.message.attempts + 1)
        self.kept[message_id] = replace(kept, message=message, last_error=error[:500])
