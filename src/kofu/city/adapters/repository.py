"""The city's registers on SQL: implements the domain's ``Registers`` port.

Repositories never commit; the unit of work does (kofu.city.adapters.uow).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.domain.city import CityProfile
from kofu.city.domain.domicile import DomicileRegistration
from kofu.city.domain.kinship import household_order
from kofu.city.domain.model import (
    FamilyRegister,
    IssuanceBlock,
    IssuanceLogEntry,
    Resident,
    SealRegistration,
    SupportMeasure,
    TaxAssessment,
)
from kofu.core.clock import JST
from kofu.core.db import next_in_sequence
from kofu.core.identifiers import IndividualNumber, ResidentCode

__all__ = ["SqlRegisters", "StoredVersion"]


@dataclass(frozen=True)
class StoredVersion:
    """One stored state of a resident record."""

    version: int
    effective: date
    kind: str
    record: Resident


def resident_row(resident: Resident, version: int) -> dict[str, Any]:
    """The columns of the ``residents`` table for one record."""
    return {
        "resident_code": resident.resident_code,
        "individual_number": resident.individual_number,
        "household_id": resident.household_id,
        "family_register_id": resident.family_register_id,
        "status": resident.status.value,
        "name": resident.name,
        "kana": resident.kana,
        "birth_date": resident.birth_date,
        "version": version,
        "data": resident.model_dump_json(),
    }


# The statements every store issuance runs, built once: SQLAlchemy then only
# binds the values instead of building and hashing a new statement each time.
_r = t.residents
_PROFILE = select(t.profile.c.data)
_RECORD = select(_r.c.resident_code, _r.c.data, _r.c.version, _r.c.next_change_on)
_RESIDENT = _RECORD.where(_r.c.resident_code == bindparam("b_code"))
_HOUSEHOLD = _RECORD.where(
    _r.c.household_id == bindparam("b_household"),
    (_r.c.status == "resident") | _r.c.next_change_on.is_not(None),
)
_SUPPORT = select(t.support_measures.c.data).where(
    t.support_measures.c.resident_code == bindparam("b_code")
)
_BLOCKS = select(t.issuance_blocks.c.data).where(
    t.issuance_blocks.c.resident_code == bindparam("b_code")
)
_LOG = insert(t.issuance_log)


class SqlRegisters:
    """Every register of one city, read and written on one connection."""

    def __init__(
        self, conn: Connection, rng: random.Random | None = None, today: date | None = None
    ) -> None:
        self.conn = conn
        self._rng = rng or random.SystemRandom()
        self._towns: dict[str, str] | None = None
        self.today = today or datetime.now(JST).date()
        # Juki-net's CS outbox (kofu.city.adapters.juki_cs): told of every stored change in
        # effect today, in the same transaction, so a change is never lost nor sent alone.
        self.on_change: Callable[[Resident | None, Resident, int, date, str], object] | None = None
        self.take_code: Callable[[], str | None] | None = None  # from the CS's code blocks

    # --- the city itself ---------------------------------------------------------------

    def profile(self) -> CityProfile | None:
        data = self.conn.execute(_PROFILE).scalar_one_or_none()
        return CityProfile.model_validate_json(data) if data else None

    def save_profile(self, city: CityProfile) -> None:
        self.conn.execute(t.profile.delete())
        self.conn.execute(insert(t.profile).values(code=city.code, data=city.model_dump_json()))

    def postal_code_for(self, town: str) -> str | None:
        if self._towns is None:
            rows = self.conn.execute(select(t.towns.c.town, t.towns.c.postal_code))
            self._towns = {r.town: r.postal_code for r in rows}
        return self._towns.get(town)

    def next_number(self, name: str, count: int = 1) -> int:
        """Reserve ``count`` numbers of a named sequence; returns the first."""
        return next_in_sequence(self.conn, t.counters, name, count)

    # --- residents ---------------------------------------------------------------------

    def _current(self, row: Any) -> Resident:
        """The record as it stands today; a future version that has come due is applied first."""
        due = row.next_change_on
        if due is None or due > self.today:
            return Resident.model_validate_json(row.data)
        versions = self.history(row.resident_code)
        now = [v for v in versions if v.effective <= self.today][-1]
        later = [v.effective for v in versions if v.effective > self.today]
        values = resident_row(now.record, row.version)
        values["next_change_on"] = min(later) if later else None
        self.conn.execute(
            update(t.residents)
            .where(t.residents.c.resident_code == row.resident_code)
            .values(values)
        )
        if self.on_change is not None:  # a planned change has come due: it happens now
            before = Resident.model_validate_json(row.data)
            self.on_change(before, now.record, now.version, now.effective, now.kind)
        return now.record

    def resident(self, resident_code: str) -> Resident | None:
        row = self.conn.execute(_RESIDENT, {"b_code": resident_code}).first()
        return self._current(row) if row else None

    def resident_by_number(self, individual_number: str) -> Resident | None:
        row = self.conn.execute(_RECORD.where(_r.c.individual_number == individual_number)).first()
        return self._current(row) if row else None

    def history(self, resident_code: str) -> list[StoredVersion]:
        """Every stored version, in the order they were recorded (future ones included)."""
        rows = self.conn.execute(
            select(t.resident_versions)
            .where(t.resident_versions.c.resident_code == resident_code)
            .order_by(t.resident_versions.c.version)
        )
        return [
            StoredVersion(r.version, r.effective, r.kind, Resident.model_validate_json(r.data))
            for r in rows
        ]

    def save_resident(self, resident: Resident, *, effective: date, kind: str) -> int:
        """Store a new version; one dated after today waits (next_change_on) until its day."""
        code = resident.resident_code
        last = self.conn.execute(
            select(func.max(t.resident_versions.c.version)).where(
                t.resident_versions.c.resident_code == code
            )
        ).scalar_one_or_none()
        version = (last or 0) + 1
        row = resident_row(resident, version)
        pending = self.conn.execute(
            select(t.residents.c.next_change_on, t.residents.c.data).where(
                t.residents.c.resident_code == code
            )
        ).first()
        if pending is None:
            self.conn.execute(insert(t.residents).values(row))
        elif effective > self.today:
            due = min(d for d in (pending.next_change_on, effective) if d is not None)
            self.conn.execute(
                update(t.residents)
                .where(t.residents.c.resident_code == code)
                .values(next_change_on=due, version=version)
            )
        else:
            self.conn.execute(
                update(t.residents).where(t.residents.c.resident_code == code).values(row)
            )
        self.conn.execute(
            insert(t.resident_versions).values(
                resident_code=code,
                version=version,
                effective=effective,
                kind=kind,
                data=row["data"],
            )
        )
        if self.on_change is not None and (pending is None or effective <= self.today):
            before = None if pending is None else Resident.model_validate_json(pending.data)
            self.on_change(before, resident, version, effective, kind)
        return version

    def household(self, household_id: str) -> list[Resident]:
        """Live members of a household today, in the standard's order (jyuki-stnd 5.2)."""
        rows = self.conn.execute(_HOUSEHOLD, {"b_household": household_id})
        members = [m for m in (self._current(row) for row in rows) if m.is_resident]
        members = [m for m in members if m.household_id == household_id]
        return household_order(members)

    def former_household(self, household_id: str) -> list[Resident]:
        """Removed records (除票) that were of a household when removed.

        A removal stored ahead (a planned move-out) whose day has come counts,
        though its row is brought up to date only when read.
        """
        r = t.residents
        due = r.c.next_change_on <= self.today
        rows = self.conn.execute(
            select(r.c.resident_code, r.c.data, r.c.version, r.c.next_change_on).where(
                r.c.household_id == household_id, or_(r.c.status != "resident", due)
            )
        )
        members = [self._current(row) for row in rows]
        return [m for m in members if not m.is_resident and m.household_id == household_id]

    def residents(self, limit: int | None = None, offset: int = 0) -> list[Resident]:
        r = t.residents
        query = (
            select(r.c.resident_code, r.c.data, r.c.version, r.c.next_change_on)
            .order_by(r.c.resident_code)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [self._current(row) for row in self.conn.execute(query)]

    def sample_domiciled_elsewhere(self) -> Resident | None:
        """An adult Japanese resident whose family register is kept in another city."""
        r = t.residents
        rows = self.conn.execute(
            select(r.c.data).where(r.c.status == "resident").order_by(r.c.resident_code)
        ).scalars()
        for data in rows:
            person = Resident.model_validate_json(data)
            adult = self.today.year - person.birth_date.year > 20
            if adult and person.foreign is None and person.family_register_id is None:
                return person
        return None

    def any_domicile(self) -> str | None:
        """A 本籍 in this city that registers already use (one place may hold many)."""
        f = t.family_registers
        return self.conn.execute(
            select(f.c.domicile).where(f.c.closed_on.is_(None)).order_by(f.c.register_id).limit(1)
        ).scalar_one_or_none()

    def sample_holder(self, *, removed: bool = False) -> Resident | None:
        """A person fit to show every certificate: seal, register kept here, a household of 3+.

        With ``removed``, the first removed record (除票) instead.
        """
        r = t.residents
        if removed:
            query = select(r.c.data).where(r.c.status != "resident").order_by(r.c.resident_code)
            data = self.conn.execute(query.limit(1)).scalar_one_or_none()
            return Resident.model_validate_json(data) if data else None
        big = (
            select(r.c.household_id)
            .where(r.c.status == "resident")
            .group_by(r.c.household_id)
            .having(func.count() >= 3)
        )
        sealed = select(t.seals.c.resident_code).where(t.seals.c.active.is_(True))
        query = (
            select(r.c.data)
            .where(
                r.c.status == "resident",
                r.c.family_register_id.is_not(None),
                r.c.household_id.in_(big),
                r.c.resident_code.in_(sealed),
            )
            .order_by(r.c.resident_code)
            .limit(1)
        )
        data = self.conn.execute(query).scalar_one_or_none()
        return Resident.model_validate_json(data) if data else None

    def count_residents(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.residents)).scalar_one())

    def new_household_id(self) -> str:
        return f"{self.next_number('household'):010d}"

    def _unused(self, column: Any, make: Any) -> str:
        while True:
            candidate = make()
            if self.conn.execute(select(column).where(column == candidate)).first() is None:
                return str(candidate)

    def new_resident_code(self) -> str:
        """The next unused code of the city's block from Juki-net (未使用住民票コード).

        A city never connected to Juki-net (no block ever received) makes a
        random unused one, as the registers did before the network.
        """
        if self.take_code is not None and (code := self.take_code()) is not None:
            return code
        return self._unused(
            t.residents.c.resident_code,
            lambda: ResidentCode.from_base(f"{self._rng.randrange(10**10):010d}"),
        )

    def new_individual_number(self) -> str:
        return self._unused(
            t.residents.c.individual_number,
            lambda: IndividualNumber.from_base(f"{self._rng.randrange(10**11):011d}"),
        )

    # --- family registers --------------------------------------------------------------

    def family_register(self, register_id: str) -> FamilyRegister | None:
        data = self.conn.execute(
            select(t.family_registers.c.data).where(t.family_registers.c.register_id == register_id)
        ).scalar_one_or_none()
        return FamilyRegister.model_validate_json(data) if data else None

    def save_family_register(self, register: FamilyRegister) -> None:
        row = {
            "register_id": register.register_id,
            "domicile": register.domicile,
            "head_name": register.head_name,
            "closed_on": register.closed_on,
            "data": register.model_dump_json(),
        }
        self._upsert(t.family_registers, "register_id", row)

    def new_register_id(self) -> str:
        return f"K{self.next_number('family_register'):09d}"

    def family_registers_at(self, domicile: str) -> list[FamilyRegister]:
        rows = self.conn.execute(
            select(t.family_registers.c.data).where(t.family_registers.c.domicile == domicile)
        ).scalars()
        return [FamilyRegister.model_validate_json(d) for d in rows]

    # --- 本籍地利用登録 ----------------------------------------------------------------

    def domicile_registration(self, auth_serial: str) -> DomicileRegistration | None:
        """The newest registration the certificate applied for."""
        d = t.domicile_registrations
        data = self.conn.execute(
            select(d.c.data)
            .where(d.c.auth_serial == auth_serial)
            .order_by(d.c.applied_at.desc(), d.c.registration_id.desc())
            .limit(1)
        ).scalar_one_or_none()
        return DomicileRegistration.model_validate_json(data) if data else None

    def domicile_registration_by_id(self, registration_id: str) -> DomicileRegistration | None:
        d = t.domicile_registrations
        data = self.conn.execute(
            select(d.c.data).where(d.c.registration_id == registration_id)
        ).scalar_one_or_none()
        return DomicileRegistration.model_validate_json(data) if data else None

    def domicile_registrations(self, state: str | None = None) -> list[DomicileRegistration]:
        d = t.domicile_registrations
        query = select(d.c.data).order_by(d.c.applied_at, d.c.registration_id)
        if state is not None:
            query = query.where(d.c.state == state)
        return [
            DomicileRegistration.model_validate_json(x) for x in self.conn.execute(query).scalars()
        ]

    def save_domicile_registration(self, registration: DomicileRegistration) -> None:
        row = {
            "registration_id": registration.registration_id,
            "auth_serial": registration.auth_serial,
            "state": registration.state.value,
            "applied_at": registration.applied_at,
            "data": registration.model_dump_json(),
        }
        d = t.domicile_registrations
        done = self.conn.execute(
            update(d).where(d.c.registration_id == registration.registration_id).values(**row)
        )
        if not done.rowcount:
            self.conn.execute(insert(d).values(**row))

    def new_registration_id(self) -> str:
        return f"D{self.next_number('domicile_registration'):09d}"

    # --- seals, tax, support measures, blocks ---------------------------------------

    def seal(self, resident_code: str) -> SealRegistration | None:
        """The resident's newest seal registration (active or abolished)."""
        data = self.conn.execute(
            select(t.seals.c.data)
            .where(t.seals.c.resident_code == resident_code)
            .order_by(t.seals.c.active.desc(), t.seals.c.registration_number.desc())
            .limit(1)
        ).scalar_one_or_none()
        return SealRegistration.model_validate_json(data) if data else None

    def seal_image(self, registration_number: str) -> bytes | None:
        return self.conn.execute(
            select(t.seals.c.image).where(t.seals.c.registration_number == registration_number)
        ).scalar_one_or_none()

    def save_seal(self, seal: SealRegistration, image: bytes | None = None) -> None:
        row: dict[str, Any] = {
            "registration_number": seal.registration_number,
            "resident_code": seal.resident_code,
            "active": seal.active,
            "data": seal.model_dump_json(),
        }
        if image is not None:
            row["image"] = image
        self._upsert(t.seals, "registration_number", row)

    def new_seal_number(self) -> str:
        return f"{self.next_number('seal'):08d}"

    def tax(self, resident_code: str, fiscal_year: int) -> TaxAssessment | None:
        data = self.conn.execute(
            select(t.tax_assessments.c.data).where(
                t.tax_assessments.c.resident_code == resident_code,
                t.tax_assessments.c.fiscal_year == fiscal_year,
            )
        ).scalar_one_or_none()
        return TaxAssessment.model_validate_json(data) if data else None

    def save_tax(self, assessment: TaxAssessment) -> None:
        key = {"resident_code": assessment.resident_code, "fiscal_year": assessment.fiscal_year}
        self.conn.execute(
            t.tax_assessments.delete().where(
                t.tax_assessments.c.resident_code == key["resident_code"],
                t.tax_assessments.c.fiscal_year == key["fiscal_year"],
            )
        )
        self.conn.execute(
            insert(t.tax_assessments).values(**key, data=assessment.model_dump_json())
        )

    def support_measures(self, resident_code: str) -> list[SupportMeasure]:
        rows = self.conn.execute(_SUPPORT, {"b_code": resident_code}).scalars()
        return [SupportMeasure.model_validate_json(d) for d in rows]

    def save_support_measure(self, measure: SupportMeasure) -> None:
        row = {
            "measure_id": measure.measure_id,
            "resident_code": measure.resident_code,
            "data": measure.model_dump_json(),
        }
        self._upsert(t.support_measures, "measure_id", row)

    def issuance_blocks(self, resident_code: str) -> list[IssuanceBlock]:
        rows = self.conn.execute(_BLOCKS, {"b_code": resident_code}).scalars()
        return [IssuanceBlock.model_validate_json(d) for d in rows]

    def blocked_residents(self) -> set[str]:
        """Who has a block standing (not released), for listings (j410)."""
        rows = self.conn.execute(select(t.issuance_blocks.c.data)).scalars()
        blocks = (IssuanceBlock.model_validate_json(d) for d in rows)
        return {b.resident_code for b in blocks if b.released_on is None}

    def save_issuance_block(self, block: IssuanceBlock) -> None:
        row = {
            "block_id": block.block_id,
            "resident_code": block.resident_code,
            "data": block.model_dump_json(),
        }
        self._upsert(t.issuance_blocks, "block_id", row)

    # --- logs ------------------------------------------------------------------------------

    def log_event(
        self, *, batch: str, at: datetime, event: dict[str, Any], changes: list[dict[str, Any]]
    ) -> None:
        """Keep the applied event and what it changed (異動履歴), for audit."""
        self.conn.execute(
            insert(t.event_log).values(
                batch=batch,
                applied_at=at,
                kind=event["kind"],
                event=json.dumps(event, ensure_ascii=False),
                changes=json.dumps(changes, ensure_ascii=False),
            )
        )

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
        self.conn.execute(
            _LOG,
            {
                "issue_number": issue_number,
                "issued_at": at,
                "channel": channel,
                "certificate": certificate,
                "resident_code": resident_code,
                "content_digest": digest,
                "detail": json.dumps(detail, ensure_ascii=False),
                "place": place,
                "terminal": terminal,
                "staff_id": staff_id,
            },
        )

    def _entry(self, row: Any) -> IssuanceLogEntry:
        return IssuanceLogEntry(
            issue_number=row.issue_number,
            issued_at=row.issued_at,
            channel=row.channel,
            certificate=row.certificate,
            resident_code=row.resident_code,
            place=row.place,
            terminal=row.terminal,
            staff_id=row.staff_id,
            detail=json.loads(row.detail),
            disposed_on=row.disposed_on,
            disposal_reason=row.disposal_reason,
        )

    def issuance(self, issue_number: int) -> IssuanceLogEntry | None:
        """One line of the 交付履歴 by its 発行番号."""
        log = t.issuance_log
        row = self.conn.execute(select(log).where(log.c.issue_number == issue_number)).first()
        return self._entry(row) if row is not None else None

    def issuances(self, resident_code: str) -> list[IssuanceLogEntry]:
        """交付履歴照会: what was issued for a person, oldest first."""
        log = t.issuance_log
        rows = self.conn.execute(
            select(log).where(log.c.resident_code == resident_code).order_by(log.c.issue_number)
        )
        return [self._entry(row) for row in rows]

    def dispose_issuance(self, issue_number: int, on: date, reason: str) -> None:
        """処分情報: the copy was issued in error and destroyed."""
        log = t.issuance_log
        self.conn.execute(
            update(log)
            .where(log.c.issue_number == issue_number)
            .values(disposed_on=on, disposal_reason=reason)
        )

    # --- helpers -------------------------------------------------------------------------

    def _upsert(self, table: Table, key: str, row: dict[str, Any]) -> None:
        column = table.c[key]
        exists = self.conn.execute(select(column).where(column == row[key])).first()
        if exists is None:
            self.conn.execute(insert(table).values(row))
        else:
            self.conn.execute(update(table).where(column == row[key]).values(row))
