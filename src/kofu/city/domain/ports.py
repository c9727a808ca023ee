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

from kofu.city.domain.activity import Activity
from kofu.city.domain.card_desk import CardApplication, CardRecord, IssuanceSlot
from kofu.city.domain.city import CityProfile
from kofu.city.domain.citylink import KeptWideArea
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
from kofu.city.domain.office import AuditEntry
from kofu.city.domain.provisional import EntryState, ProvisionalEntry
from kofu.city.domain.store_requests import KeptAnswer
from kofu.contracts.juki import CodeBlock, IdentityReport, ReportCounts
from kofu.core.sequenced import Unsent

__all__ = [
    "ActivityLog",
    "AuditSeqTaken",
    "CardDesk",
    "CertificateAuthority",
    "CityRegisters",
    "CityUnitOfWork",
    "CityUnits",
    "Citylink",
    "IssuedCertificates",
    "JukiCs",
    "JukiFeed",
    "Office",
    "OfficeUnitOfWork",
    "Outbox",
    "OutboxMessage",
    "ProvisionalEntries",
    "Registers",
    "ResidentVersion",
    "StaffAccount",
    "StaffLogin",
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
    def blocked_residents(self) -> set[str]:
        """Who has a block standing (not released), for listings (j410)."""
        ...

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
        place: str | None = None,
        terminal: str | None = None,
        staff_id: str | None = None,
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
    def pending_targets(self, prefix: str) -> list[str]:
        """The targets starting with ``prefix`` that have undelivered messages, without it."""
        ...


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

    def answered(self, request_ids: Sequence[str]) -> dict[str, KeptAnswer]:
        """The kept answers under these ids, their PDFs left out."""
        ...

    def keep(self, kept: KeptAnswer, at: datetime) -> None:
        """Keep the answer; RequestIdTaken when one is kept already (the unit is lost)."""
        ...


class ActivityLog(Protocol):
    """The activity log (kofu.city.domain.activity): append-only, corrected by reversals."""

    def append(self, activity: Activity, at: datetime | None = None) -> int | None:
        """Append in the open unit; None when the activity's ``ref`` is logged already."""
        ...

    def append_each(
        self, activities: Sequence[Activity], at: datetime | None = None
    ) -> list[int | None]:
        """Append many, each once under its ``ref``; None for one logged already."""
        ...

    def reverse(
        self, activity_id: int, reason: str, at: datetime | None = None, origin: str = "staff"
    ) -> int: ...

    def daily_sums(self, start: date, end: date) -> list[tuple[date, str, str, str, int, int]]: ...


class ProvisionalEntries(Protocol):
    """仮登録 (jyuki-stnd 4.0.8): changes entered and kept until approved or withdrawn."""

    def new_entry_id(self) -> str: ...
    def add(self, entry: ProvisionalEntry) -> None: ...
    def decide(self, entry: ProvisionalEntry) -> bool:
        """The decision over a pending entry; False if it was decided already."""
        ...

    def entry(self, entry_id: str) -> ProvisionalEntry | None: ...
    def entries(
        self, *, state: EntryState | None = None, resident_code: str | None = None
    ) -> list[ProvisionalEntry]: ...


class Citylink(Protocol):
    """The city's records of Juki-net services with other cities.

    Wide-area certificates (広域交付) under their request id and role, the
    move-out data it made (転出証明書情報) and the move-ins it took (特例転入).
    A record under an id is kept once: a second ``keep_*`` raises Conflict.
    """

    def wide_area(self, request_id: str, role: str) -> KeptWideArea | None: ...
    def keep_wide_area(self, kept: KeptWideArea, at: datetime) -> None: ...
    def wide_area_counts(self, since: date, until: date) -> list[dict[str, Any]]:
        """Issued wide-area certificates per role and other city, for the statistics."""
        ...

    def keep_move_out(
        self, move_out_id: str, resident_code: str, to_city: str, data: dict[str, Any], at: datetime
    ) -> None: ...
    def move_out_of(self, resident_code: str) -> dict[str, Any] | None:
        """The newest move-out data naming this person (as the requester or a member)."""
        ...

    def move_out(self, move_out_id: str) -> dict[str, Any] | None:
        """The data's state, destination and when a move-in closed it."""
        ...

    def close_move_out(self, move_out_id: str, at: datetime) -> bool:
        """Mark the data used by a move-in; False when it was already."""
        ...

    def move_in(self, move_out_id: str) -> dict[str, Any] | None: ...
    def keep_move_in(
        self, move_out_id: str, from_city: str, moved_on: date, residents: list[str], at: datetime
    ) -> None: ...


class JukiCs(Protocol):
    """The city's communication server (CS) side: its outbox to Juki-net, link, code blocks.

    Every change of 本人確認情報 is queued here, numbered, in the transaction
    that stores it; ``kofu.core.sequenced`` drains the outbox in seq order.
    """

    # the outbox as kofu.core.sequenced drains it
    def unsent(self, limit: int) -> list[Unsent]: ...
    def one(self, seq: int) -> Unsent | None: ...
    def mark_sent(self, first: int, through: int) -> None: ...
    def rewind(self, to: int) -> None: ...
    def mark_failed(self, seq: int, reason: str) -> None: ...

    # notices queued other than by a change
    def apply_due(self) -> int: ...
    def initial_load(self) -> int:
        """Queue every record once, the first time the city links to Juki-net (初期移行)."""
        ...

    def add_by_hand(
        self, resident_code: str, reason: str, retires: str | None = None
    ) -> int | None:
        """A clerk's notice of the record as it stands (手動追加); None for an unknown person."""
        ...

    # what staff see, and the link's mode (j1090)
    def messages(self, state: str | None, limit: int, after: int = 0) -> list[dict[str, Any]]: ...
    def counts(self) -> dict[str, int]: ...
    def pending_for(self, resident_code: str) -> list[int]:
        """Unsent seqs about one person (a difference they explain is no drift)."""
        ...

    def link(self) -> dict[str, Any]: ...
    def set_mode(self, mode: str, note: str | None) -> None: ...

    # unused resident codes (未使用住民票コード)
    def codes_left(self) -> int: ...
    def take_code(self) -> str | None: ...
    def code_request(self, count: int) -> tuple[str, int]:
        """The block request still unanswered, or a new one kept before it is sent."""
        ...

    def add_block(self, request_id: str, block: CodeBlock) -> bool:
        """Keep a received block once (a repeated answer to the same request adds nothing)."""
        ...

    # resident code change (住民票コード変更) and the consistency check (j1100)
    def rename_resident(self, old: str, new: str, on: date, channel: str) -> None: ...
    def retired_codes(self) -> list[str]: ...
    def retired_as(self, code: str) -> str | None:
        """The code that replaced ``code``, if it was retired here."""
        ...

    def records_after(self, after: str, limit: int) -> list[Resident]:
        """The register's records as they stand today, after ``after`` by resident code."""
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
    @property
    def activity(self) -> ActivityLog: ...
    @property
    def citylink(self) -> Citylink: ...
    @property
    def cs(self) -> JukiCs: ...
    @property
    def provisional(self) -> ProvisionalEntries: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def reading(self) -> Self:
        """For the next ``with`` only: reads, no transaction; nothing may be committed."""
        ...

    def city(self) -> CityProfile:
        """The city this store belongs to; a store never seeded is 404."""
        ...


class CityUnits(Protocol):
    """A new unit of work on the city's store for each call (the registers' today, if given)."""

    def __call__(self, *, today: date | None = None) -> CityUnitOfWork: ...


# --- the office web app's books (staff, sessions, the audit trail), beside the registers ------


class StaffAccount(Protocol):
    """A staff member's account as sign-in reads it."""

    @property
    def role(self) -> str: ...
    @property
    def password_hash(self) -> str: ...  # argon2id
    @property
    def failed(self) -> int: ...  # wrong passwords in a row
    @property
    def locked_until(self) -> datetime | None: ...


class StaffLogin(Protocol):
    """A signed-in session, kept under the SHA-256 of its token, with its member's role."""

    @property
    def user_name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def csrf(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def seen_at(self) -> datetime: ...


class Office(Protocol):
    """Staff accounts, sessions and the audit trail; on the city's transaction, never commits."""

    def staff_member(self, user_name: str) -> StaffAccount | None: ...
    def save_staff(self, user_name: str, role: str, password_hash: str, at: datetime) -> bool:
        """Add or replace an account; True when it is new."""
        ...

    def record_failure(
        self, user_name: str, failed: int, locked_until: datetime | None
    ) -> None: ...
    def rehash(self, user_name: str, password_hash: str) -> None: ...
    def open_session(self, token_hash: str, user_name: str, csrf: str, at: datetime) -> None: ...
    def session(self, token_hash: str) -> StaffLogin | None: ...
    def touch_session(self, token_hash: str, at: datetime) -> None: ...
    def close_session(self, token_hash: str) -> None: ...
    def last_audit(self) -> AuditEntry | None: ...
    def append_audit(self, entry: AuditEntry) -> None:
        """Insert only: the trail is never updated or deleted.

        AuditSeqTaken when another process appended an entry of that seq first.
        """
        ...

    def audit_entries(
        self, since: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]: ...
    def search_residents(
        self,
        registers: CityRegisters,
        *,
        name: str = "",
        kana: str = "",
        birth_date: date | None = None,
        address: str = "",
        limit: int = 50,
    ) -> list[Resident]:
        """Records matching every criterion given, as they stand today."""
        ...


class AuditSeqTaken(Exception):
    """Another process appended the audit entry of this seq first: read the head again."""


class OfficeUnitOfWork(CityUnitOfWork, Protocol):
    """The city's unit of work with the office's books on the same transaction."""

    @property
    def office(self) -> Office: ...
    @property
    def city_code(self) -> str: ...
