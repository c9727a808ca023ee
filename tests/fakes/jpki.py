"""The authority's register in memory: a unit of work with the SQL one's semantics, for fast tests.

A unit works on a copy under one lock; only ``commit`` makes its changes seen.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self

from kofu.jpki.domain.ports import CertificateRecord

__all__ = ["MemoryJpki"]


class MemoryJpki:
    """The store: call it for a new unit of work (the ``JpkiUnits`` the service takes)."""

    def __init__(self) -> None:
        self.records: dict[int, CertificateRecord] = {}
        self.counters: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self) -> _Unit:
        return _Unit(self)


class _Unit:
    def __init__(self, store: MemoryJpki) -> None:
        self._store = store

    def __enter__(self) -> Self:
        if not self._store.lock.acquire(timeout=10):
            raise RuntimeError("a unit of work waited 10 s for another: nested units?")
        self.certificates = _Certificates(dict(self._store.records), dict(self._store.counters))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.lock.release()

    def commit(self) -> None:
        self._store.records = dict(self.certificates.records)
        self._store.counters = dict(self.certificates.counters)


class _Certificates:
    def __init__(self, records: dict[int, CertificateRecord], counters: dict[str, int]) -> None:
        self.records, self.counters = records, counters

    def add(self, record: CertificateRecord) -> None:
        if record.serial in self.records:
            raise KeyError(f"serial {record.serial:x} exists")  # the primary key, as on SQL
        self.records[record.serial] = record

    def get(self, serial: int) -> CertificateRecord | None:
        return self.records.get(serial)

    def for_card(self, card_id: str) -> list[CertificateRecord]:
        return [r for r in self.records.values() if r.card_id == card_id]

    def revoke(self, serial: int, at: datetime, cause: str) -> None:
        if serial in self.records:
            self.records[serial] = replace(
                self.records[serial], status="revoked", revoked_at=at, cause=cause
            )
        self.next_value("revocations")

    def revoked(self, kind: str) -> list[tuple[int, datetime, str]]:
        return [
            (r.serial, r.revoked_at, r.cause or "")
            for r in self.records.values()
            if r.kind == kind and r.status == "revoked" and r.revoked_at is not None
        ]

    def revision(self) -> int:
        return self.counters.get("revocations", 0)

    def next_value(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        return self.counters[name]
