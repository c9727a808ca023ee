"""What juki's directory needs from storage, as protocols its adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from kofu.juki.domain.identity import IdentityRecord

__all__ = ["Identities", "JukiUnitOfWork", "JukiUnits"]


class Identities(Protocol):
    """Each city's newest report of each person."""

    def store_id(self) -> str: ...

    def of_person(self, resident_code: str) -> list[IdentityRecord]: ...

    def stored(self, city: str, codes: Iterable[str]) -> dict[str, IdentityRecord]:
        """What juki keeps from ``city`` for these people, by resident code."""
        ...

    def put(self, record: IdentityRecord, *, replacing: bool, at: datetime) -> bool:
        """Store ``record``; a replacement only over an older version (False: lost the race).

        A new record another writer stored first is 409 ``Conflict``.
        """
        ...

    def number_in_use(self, individual_number: str, resident_code: str) -> bool: ...

    def count(self) -> int: ...


class JukiUnitOfWork(Protocol):
    """``with units() as uow: ...; uow.commit()`` — one transaction; anything else rolls back."""

    @property
    def identities(self) -> Identities: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Keep the unit's changes; a conflict with another writer is 409 ``Conflict``."""
        ...


JukiUnits = Callable[[], JukiUnitOfWork]
