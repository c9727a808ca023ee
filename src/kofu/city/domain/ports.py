"""What the city's rules need from storage, as a protocol the adapters implement.

The domain asks for records and hands back new ones; it never sees a session,
a row or a transaction (the unit of work in the service layer owns that).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from kofu.city.domain.domicile import DomicileRegistration
from kofu.city.domain.model import (
    FamilyRegister,
    IssuanceBlock,
    Resident,
    SealRegistration,
    SupportMeasure,
    TaxAssessment,
)
from kofu.contracts.juki import IdentityReport, ReportCounts

__all__ = ["CertificateAuthority", "IssuedCertificates", "Registers", "ResidentVersion"]


class ResidentVersion(Protocol):
    """One stored state of a resident record and the change that made it."""

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
