"""What the center's use cases need from storage and from the other parties, as protocols.

The services see a unit of work holding three books (the issuance log, the
sessions, the alarms) and never a row, a statement or a connection.  Every
method is one statement on a SQL store: the center's concurrency rests on
conditional single-statement moves (one worker wins a claim, a settlement,
a challenge), so the protocols name those moves, not generic updates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

from cryptography import x509

from kofu.center.domain.auth import Authenticated
from kofu.center.domain.issuance import Alarm, Issuance
from kofu.center.domain.log import LogQuery
from kofu.center.domain.resume import Resume
from kofu.center.domain.sessions import SessionEntry
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import (
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrints,
    StoreRequest,
)
from kofu.documents.payload import EcdsaSigner

__all__ = [
    "AlarmLog",
    "CenterUnitOfWork",
    "CityLink",
    "Directory",
    "IssuanceLog",
    "SessionBook",
    "SigningKey",
    "UnitsOfWork",
    "Whereabouts",
]


class IssuanceLog(Protocol):
    """The issuance log (交付記録), one entry per request id."""

    def get(self, request_id: str) -> Issuance | None: ...

    def add(self, issuance: Issuance) -> bool:
        """Keep a new entry; False if the request id is taken (two at once: the first wins)."""
        ...

    def finish(self, request_id: str, state: str, at: datetime, **values: Any) -> bool:
        """requested → ``state`` with ``values`` (fee, digests, print_job, reason); False: moved."""
        ...

    def claim(self, request_id: str, now: datetime, lease_since: datetime, unanswered: str) -> bool:
        """Take over a requested entry idle since before ``lease_since`` or left ``unanswered``."""
        ...

    def settle(
        self, request_id: str, kiosk: str, fresh_since: datetime, changes: dict[str, Any]
    ) -> bool:
        """rendered (since ``fresh_since``, by ``kiosk``) → ``changes``; False if not so."""
        ...

    def void_unconfirmed(
        self, before: datetime, now: datetime, reason: str, request_id: str | None = None
    ) -> int:
        """Every rendered entry (or this one) untouched since ``before`` → voided, uncharged."""
        ...

    def stuck(self, before: datetime, limit: int) -> list[Issuance]:
        """Requested entries untouched since ``before``, at most ``limit``."""
        ...

    def untold(self, limit: int) -> list[Issuance]:
        """Printed entries whose city has not yet counted the print, at most ``limit``."""
        ...

    def told_many(self, request_ids: Sequence[str]) -> int:
        """The city counted these prints; how many had not been marked told before."""
        ...

    def settlement(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Printed entries created in [start, end): count, copies, fees per city and chain."""
        ...

    def states(self) -> dict[str, int]: ...

    def search(self, query: LogQuery) -> list[Issuance]:
        """Entries matching ``query``, newest first, without their print jobs."""
        ...

    def per_city(self) -> list[dict[str, Any]]: ...


class AlarmLog(Protocol):
    """The alarms and the supervisors' resumes (交付再開), both append-only."""

    def raise_alarm(self, alarm: Alarm) -> None: ...

    def count_for(self, city: str) -> int:
        """Alarms naming the city raised since its last resume: any stops its issuance."""
        ...

    def all(self) -> list[Alarm]: ...

    def stopped(self) -> list[str]:
        """The cities an alarm raised since their last resume stops."""
        ...

    def ever_named(self, city: str) -> bool:
        """Whether any alarm, resumed or not, ever named the city."""
        ...

    def resume(self, resume: Resume) -> bool:
        """Keep the resume of a stopped city; False if not stopped or the request id is taken."""
        ...

    def resumed(self, request_id: str) -> Resume | None: ...

    def resumes(self) -> list[Resume]:
        """Every resume, oldest first."""
        ...


class SessionBook(Protocol):
    """Open challenges and authenticated sessions, shared by every worker."""

    def put(self, session: str, challenge: bytes, expires: datetime, kiosk: str = "") -> None: ...

    def pop(self, session: str) -> tuple[bytes, datetime, str] | None:
        """Remove the open challenge and return it: only one worker ever gets it."""
        ...

    def bind(
        self,
        session: str,
        who: Authenticated,
        expires: datetime,
        kiosk: str = "",
        certificate: bytes | None = None,
    ) -> None: ...

    def subject(self, session: str) -> SessionEntry | None: ...

    def spend(self, session: str, request_id: str) -> bool:
        """Spend the session on ``request_id``; False if spent on another one already."""
        ...

    def end(self, session: str, kiosk: str) -> bool:
        """The kiosk's own signed-in session is ended: never spent again; False if not so."""
        ...

    def failed(self, serial: str, reason: str, at: datetime) -> None: ...

    def forget(self, sessions_before: datetime, failures_before: datetime) -> int: ...

    def failures_since(self, serial: str, since: datetime, opened_since: datetime) -> int:
        """Failed answers since ``since`` plus sessions opened since then and never spent."""
        ...


class CenterUnitOfWork(Protocol):
    """``with units() as uow: ...; uow.commit()`` — one transaction; anything else rolls back."""

    @property
    def issuances(self) -> IssuanceLog: ...

    @property
    def sessions(self) -> SessionBook: ...

    @property
    def alarms(self) -> AlarmLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


UnitsOfWork = Callable[[], CenterUnitOfWork]  # a new unit of work for each step


class CityLink(Protocol):
    """The LGWAN link to a city's certificate server."""

    def issue(self, city: str, request: StoreRequest) -> StoreAnswer: ...

    def identity(self, city: str, request: IdentityRequest) -> Identity: ...

    def register_domicile(self, city: str, application: DomicileApplication) -> DomicileAnswer: ...

    def outcome(self, city: str, request_id: str) -> StoreOutcome: ...

    def abandon(self, city: str, request_id: str) -> StoreOutcome: ...

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded: ...

    def connected(self) -> list[ConnectedCity]: ...

    def health(self) -> dict[str, str | None]:
        """Each connected city's name by its code; None for a city not answering now."""
        ...


class Directory(Protocol):
    """What the authority knows of a certificate: status, issuing city, holder digest."""

    def lookup(self, serial: str) -> CertificateStatus: ...

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        """OCSP; ``fresh`` asks the authority now, past any answer kept for a few seconds."""
        ...


class Whereabouts(Protocol):
    """juki: the record of the city that holds a person's resident record now."""

    def whereabouts(self, resident_code: str) -> IdentityReport: ...


class SigningKey(Protocol):
    """The center's signing key as a handle: it signs, its private key never leaves its store."""

    @property
    def key(self) -> EcdsaSigner: ...

    @property
    def kid(self) -> bytes: ...
