"""What the city's rules need from storage, as a protocol the adapters implement.

The domain asks for records and hands back new ones; it never sees a session,
a row or a transaction (the unit of work in the service layer owns that).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

from kofu.city.domain.card_desk import CardApplication, CardRecord, IssuanceSlot
from kofu.city.domain.city import CityProfile
from kofu.city.domain.domicile import DomicileRegistration
from kofu.city.domain.model import (
    FamilyRegister,
    IssuanceBlock,
    IssuanceLogEntry,
    Resident,
    SealRegistration,
    SupportMeasure,
    TaxAssessment,
)
from kofu.city.domain.store_requests import KeptAnswer
from kofu.contracts.juki import IdentityReport, ReportCounts

__all__ = [
    "CardDesk",
    "CertificateAuthority",
    "CityRegisters",
    "CityUnitOfWork",
    "IssuedCertificates",
    "JukiFeed",
    "Outbox",
    "OutboxMessage",
    "Registers",
    "ResidentVersion",
    "StoreRequests",
    "Unreported",
]


class ResidentVersion(Protocol):
    """One stored state of a resident record and the change that made it."""

    @property
    def version(self) -> int: ...

    @property
    def effective(self) -> date: ...

    @property
    def kind(self) -> str: ...

    @property
    def record(self) -> Resident: ...


class Registers(Protocol):
    """The city's registers as the rules see them, as they stand on ``today``."""

    today: date

    # 住民基本台帳
    def resident(self, resident_code: str) -> Resident | None: ...
    def resident_by_number(self, individual_number: str) -> Resident | None: ...
    def history(self, resident_code: str) -> Sequence[ResidentVersion]: ...
    def save_resident(self, resident: Resident, *, effective: date, kind: str) -> int: ...
    def household(self, household_id: str) -> Sequence[Resident]: ...
    def former_household(self, household_id: str) -> Sequence[Resident]: ...
    def new_household_id(self) -> str: ...
    def new_resident_code(self) -> str: ...
    def new_individual_number(self) -> str: ...
    def postal_code_for(self, town: str) -> str | None: ...

    # 戸籍 and its 附票
    def family_register(self, register_id: str) -> FamilyRegister | None: ...
    def save_family_register(self, register: FamilyRegister) -> None: ...
    def new_register_id(self) -> str: ...
    def family_registers_at(self, domicile: str) -> Sequence[FamilyRegister]: ...

    # 本籍地利用登録
    def domicile_registration(self, auth_serial: str) -> DomicileRegistration | None: ...
    def domicile_registration_by_id(self, registration_id: str) -> DomicileRegistration | None: ...
    def domicile_registrations(
        self, state: str | None = None
    ) -> Sequence[DomicileRegistration]: ...
    def save_domicile_registration(self, registration: DomicileRegistration) -> None: ...
    def new_registration_id(self) -> str: ...

    # 印鑑登録
    def seal(self, resident_code: str) -> SealRegistration | None: ...
    def save_seal(self, seal: SealRegistration) -> None: ...
    def new_seal_number(self) -> str: ...

    # 課税
    def tax(self, resident_code: str, fiscal_year: int) -> TaxAssessment | None: ...
    def save_tax(self, assessment: TaxAssessment) -> None: ...

    # 支援措置 and 発行抑止
    def support_measures(self, resident_code: str) -> Sequence[SupportMeasure]: ...
    def save_support_measure(self, measure: SupportMeasure) -> None: ...
    def issuance_blocks(self, resident_code: str) -> Sequence[IssuanceBlock]: ...

    # 交付履歴
    def issuance(self, issue_number: int) -> IssuanceLogEntry | None: ...
    def issuances(self, resident_code: str) -> Sequence[IssuanceLogEntry]: ...
    def dispose_issuance(self, issue_number: int, on: date, reason: str) -> None: ...
    def save_issuance_block(self, block: IssuanceBlock) -> None: ...


class IssuedCertificates(Protocol):
    """What the authority returns for one card: both certificates and their serials."""

    @property
    def auth_pem(self) -> str: ...
    @property
    def auth_serial(self) -> str: ...
    @property
    def sign_pem(self) -> str | None: ...
    @property
    def sign_serial(self) -> str | None: ...


class CertificateAuthority(Protocol):
    """The JPKI authority as the card desk sees it (reached over HTTP in deployment)."""

    def issue_pair(
        self,
        *,
        city: str,
        resident_code: str,
        card_id: str,
        birth_date: date,
        card_expiry: date,
        facts: dict[str, str] | None,
        auth_public_key_pem: str,
        sign_public_key_pem: str | None,
    ) -> IssuedCertificates: ...

    def revoke_card(self, card_id: str, cause: str) -> list[str]: ...


class IdentityDirectory(Protocol):
    """juki, the national directory, as the city reports to it (本人確認情報の通知)."""

    def report(self, city: str, records: Sequence[IdentityReport]) -> ReportCounts:
        """Store these records; a record juki already has is ignored (idempotent)."""
        ...

    def store_id(self) -> str:
        """The identity of juki's store; another one than last time has none of our reports."""
        ...


# --- what the city's services need of its store: the unit of work and its books -------------


class CityRegisters(Registers, Protocol):
    """The registers as the services see them: the rules' view, plus the logs and counters."""

    def profile(self) -> CityProfile | None: ...
    def next_number(self, name: str, count: int = 1) -> int: ...
    def residents(self, limit: int | None = None, offset: int = 0) -> list[Resident]: ...
    def sample_holder(self, *, removed: bool = False) -> Resident | None: ...

    def log_event(
        self, *, batch: str, at: datetime, event: dict[str, Any], changes: list[dict[str, Any]]
    ) -> None:
        """Keep the applied event and what it changed (異動履歴), for audit."""
        ...

    def log_issuance(
        self,
        *,
        issue_number: int,
        at: datetime,
        channel: str,
        certificate: str,
        resident_code: str,
        digest: str,
        detail: dict[str, Any],
    ) -> None:
        """交付履歴: every issued certificate with its number and content digest."""
        ...


class CardDesk(Protocol):
    """The card desk's books: applications, issuance slots, cards (個人番号カード)."""

    def application(self, application_id: str) -> CardApplication | None: ...
    def applications_of(self, resident_code: str) -> list[CardApplication]: ...
    def open_applications(self) -> list[CardApplication]: ...
    def save_application(self, application: CardApplication) -> None: ...
    def slot(self, slot_id: str) -> IssuanceSlot | None: ...
    def slots_from(self, start: datetime, limit: int = 50) -> list[IssuanceSlot]: ...
    def save_slot(self, slot: IssuanceSlot) -> None: ...
    def card(self, card_id: str) -> CardRecord | None: ...
    def cards_of(self, resident_code: str) -> list[CardRecord]: ...
    def card_by_auth_serial(self, serial: str) -> CardRecord | None: ...
    def save_card(self, card: CardRecord) -> None: ...


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    target: str
    kind: str
    payload: dict[str, Any]
    attempts: int


class Outbox(Protocol):
    """Messages to other parties, kept with the change that causes them, sent one by one."""

    def add(self, *, target: str, kind: str, payload: dict[str, Any], at: datetime) -> str: ...
    def pending(self, target: str, limit: int = 100) -> list[OutboxMessage]: ...
    def delivered(self, message_id: str, at: datetime) -> None: ...
    def failed(self, message_id: str, error: str) -> None: ...


@dataclass(frozen=True)
class Unreported:
    """A resident record juki has not heard of in its current version."""

    person: Resident  # as it stands today
    version: int  # the register version in effect today
    row_version: int  # the newest stored version, future ones included
    due_on: date | None  # when a stored future version comes due


class JukiFeed(Protocol):
    """What the city has reported to juki, and what it has still to report."""

    def reported_to(self) -> str | None: ...
    def start_over(self, store_id: str) -> None: ...
    def unreported(self, limit: int) -> list[Unreported]: ...
    def mark(self, reported: list[Unreported], at: datetime) -> None: ...


class StoreRequests(Protocol):
    """The answer kept under every store request id (the city's idempotence)."""

    def get(self, request_id: str) -> KeptAnswer | None: ...

    def keep(self, kept: KeptAnswer, at: datetime) -> None:
        """Keep the answer; RequestIdTaken when one is kept already (the unit is lost)."""
        ...


class CityUnitOfWork(Protocol):
    """One transaction over the city's books; ``commit`` keeps it, anything else rolls back.

    The services see this protocol; ``kofu.city.adapters.uow.CityUnitOfWork``
    is the SQL one, and the tests have one in memory.
    """

    @property
    def registers(self) -> CityRegisters: ...
    @property
    def cards(self) -> CardDesk: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def juki(self) -> JukiFeed: ...
    @property
    def store_requests(self) -> StoreRequests: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def city(self) -> CityProfile:
        """The city this store belongs to; a store never seeded is 404."""
        ...
