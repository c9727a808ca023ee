"""Reading the registers: a person's record with its history, and listings."""

from __future__ import annotations

from datetime import date
from typing import Any

from kofu.city.domain.model import Resident
from kofu.city.domain.ports import CityUnitOfWork
from kofu.core.errors import NotFound
from kofu.core.identifiers import ResidentCode

__all__ = ["list_residents", "resident_as_of", "show_resident"]


def summary(person: Resident) -> dict[str, Any]:
    """The one-line form ``kofu residents --json`` prints."""
    return {
        "resident_code": person.resident_code,
        "individual_number": person.individual_number,
        "name": person.name,
        "kana": person.kana,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex.value,
        "address": person.address.text,
        "household_id": person.household_id,
        "status": person.status.value,
    }


def list_residents(
    *, uow: CityUnitOfWork, limit: int | None, offset: int = 0
) -> list[dict[str, Any]]:
    with uow:
        return [summary(p) for p in uow.registers.residents(limit=limit, offset=offset)]


def resident_as_of(uow: CityUnitOfWork, resident_code: str, as_of: date | None) -> Resident:
    """The record as it stood at the end of ``as_of`` (the newest one without a date)."""
    code = ResidentCode(resident_code)
    history = uow.registers.history(code)
    if not history:
        raise NotFound(f"no resident with code {code}", field="resident")
    if as_of is None:
        return history[-1].record
    known = [v for v in history if v.effective <= as_of]
    if not known:
        raise NotFound(
            f"resident {code} was not on this city's register on {as_of.isoformat()}",
            field="as_of",
        )
    return known[-1].record


def show_resident(*, uow: CityUnitOfWork, resident_code: str, as_of: date | None) -> dict[str, Any]:
    """One person's record (at a date, if asked) with the history of changes."""
    with uow:
        record = resident_as_of(uow, resident_code, as_of)
        history = uow.registers.history(record.resident_code)
        seal = uow.registers.seal(record.resident_code)
        register = (
            uow.registers.family_register(record.family_register_id)
            if record.family_register_id
            else None
        )
        return {
            "resident_code": record.resident_code,
            "as_of": as_of.isoformat() if as_of else None,
            "record": record.model_dump(mode="json"),
            "history": [
                {
                    "version": v.version,
                    "effective": v.effective.isoformat(),
                    "kind": v.kind,
                    "address": v.record.address.text,
                    "name": v.record.name,
                    "status": v.record.status.value,
                    "household_id": v.record.household_id,
                    "relationship": v.record.relationship,
                }
                for v in history
                if as_of is None or v.effective <= as_of
            ],
            "seal": seal.model_dump(mode="json") if seal else None,
            "family_register": (
                {
                    "register_id": register.register_id,
                    "domicile": register.domicile,
                    "head_name": register.head_name,
                    "closed_on": register.closed_on,
                }
                if register
                else None
            ),
            "support_measures": [
                m.model_dump(mode="json")
                for m in uow.registers.support_measures(record.resident_code)
            ],
            "issuance_blocks": [
                b.model_dump(mode="json")
                for b in uow.registers.issuance_blocks(record.resident_code)
            ],
        }
