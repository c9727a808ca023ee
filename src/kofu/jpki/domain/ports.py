"""What the authority's use cases need from storage, as protocols its adapters implement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

__all__ = ["CertificateRecord", "Certificates", "JpkiUnitOfWork", "JpkiUnits"]


@dataclass(frozen=True)
class CertificateRecord:
    """One issued certificate and its status."""

    serial: int
    kind: str
    city: str
    resident_code: str
    card_id: str
    not_before: datetime
    not_after: datetime
    status: str
    revoked_at: datetime | None
    cause: str | None
    der: bytes


class Certificates(Protocol):
    """Issued certificates by serial, card and kind, and the counters beside them."""

    def add(self, record: CertificateRecord) -> None: ...

    def get(self, serial: int) -> CertificateRecord | None: ...

    def for_card(self, card_id: str) -> list[CertificateRecord]: ...

    def revoke(self, serial: int, at: datetime, cause: str) -> None:
        """Revoked, and the revocation counter counted up (every worker's caches go stale)."""
        ...

    def revoked(self, kind: str) -> list[tuple[int, datetime, str]]: ...

    def revision(self) -> int: ...

    def next_value(self, name: str) -> int:
        """Count ``name`` up by one and return the new value (1 the first time).

        Another worker making the same new counter at the same moment is 409 ``Conflict``.
        """
        ...


class JpkiUnitOfWork(Protocol):
    """``with units() as uow: ...; uow.commit()`` — one transaction; anything else rolls back."""

    @property
    def certificates(self) -> Certificates: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


JpkiUnits = Callable[[], JpkiUnitOfWork]
