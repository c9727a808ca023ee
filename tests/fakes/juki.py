"""juki's store in memory: a unit of work with the SQL one's semantics, for fast tests.

A unit works on a copy under one lock; only ``commit`` makes its changes
seen.  Each record is kept per person and reporting city, as on SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Self

from kofu.core.errors import Conflict
from kofu.juki.domain.identity import IdentityRecord

__all__ = ["MemoryJuki"]

Key = tuple[str, str]  # resident code, reporting city


class MemoryJuki:
    """The store: call it for a new unit of work (the ``JukiUnits`` the directory takes)."""

    def __init__(self, store_id: str = "memory-juki") -> None:
        self.records: dict[Key, IdentityRecord] = {}
        self.store_id = store_id
        self.lock = threading.Lock()

    def __call__(self) -> _Unit:
        return _Unit(self)


class _Unit:
    def __init__(self, store: MemoryJuki) -> None:
        self._store = store

    def __enter__(self) -> Self:
        if not self._store.lock.acquire(timeout=10):
            raise RuntimeError("a unit of work waited 10 s for another: nested units?")
        self.identities = _Identities(dict(self._store.records), self._store.store_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.lock.release()

    def commit(self) -> None:
        self._store.records = dict(self.identities.records)


class _Identities:
    def __init__(self, records: dict[Key, IdentityRecord], store_id: str) -> None:
        self.records, self._store_id = records, store_id

    def store_id(self) -> str:
        return self._store_id

    def of_person(self, resident_code: str) -> list[IdentityRecord]:
        return [r for (code, _), r in self.records.items() if code == resident_code]

    def stored(self, city: str, codes: Iterable[str]) -> dict[str, IdentityRecord]:
        wanted = set(codes)
        return {c: r for (c, by), r in self.records.items() if by == city and c in wanted}

    def put(self, record: IdentityRecord, *, replacing: bool, at: datetime) -> bool:
        key = (record.resident_code, record.city)
        kept = self.records.get(key)
        if not replacing:
            if kept is not None:
                raise Conflict("another report of the same records is being stored; send again")
            self.records[key] = record
            return True
        if kept is None or kept.version >= record.version:
            return False
        self.records[key] = record
        return True

    def number_in_use(self, individual_number: str, resident_code: str) -> bool:
        return any(
            r.individual_number == individual_number and code != resident_code
            for (code, _), r in self.records.items()
        )

    def count(self) -> int:
        return len(self.records)
