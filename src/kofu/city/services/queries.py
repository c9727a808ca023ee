"""Reading the registers: a person's record with its history, and listings."""

from __future__ import annotations

from datetime import date
from typing import Any

from kofu.city.domain.model import IssuanceBlock, Resident, SupportMeasure
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.domain.support import extension_opens
from kofu.core.errors import NotFound, Refused
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
    """The listing; ``blocked`` flags who has a block standing (j410: search results show it)."""
    with uow:
        blocked = uow.registers.blocked_residents()
        return [
            summary(p) | {"blocked": p.resident_code in blocked}
            for p in uow.registers.residents(limit=limit, offset=offset)
        ]


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
        blocks = list(uow.registers.issuance_blocks(record.resident_code))
        _check_inquiry(blocks, record.resident_code, uow.registers.today)
        history = uow.registers.history(record.resident_code)
        seal = uow.registers.seal(record.resident_code)
        measures = list(uow.registers.support_measures(record.resident_code))
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
                    "ex_officio": (
                        v.record.ex_officio.model_dump(mode="json") if v.record.ex_officio else None
                    ),
                }
                for v in history
                if as_of is None or v.effective <= as_of
            ],
            "alerts": _alerts(record, measures, uow.registers.today) + _block_alerts(blocks),
            "issuances": [
                e.model_dump(mode="json") for e in uow.registers.issuances(record.resident_code)
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
                m.model_dump(mode="json") | {"state": m.state_on(uow.registers.today)}
                for m in measures
            ],
            "issuance_blocks": [b.model_dump(mode="json") for b in blocks],
        }


def _alerts(record: Resident, measures: list[SupportMeasure], today: date) -> list[str]:
    """What the clerk must still do about this record (jyuki-stnd 4.0.4, 3.4)."""
    alerts = []
    if record.is_resident and record.head_absent:
        alerts.append(
            f"世帯主不在: household {record.household_id} has no head since "
            f"{record.former_head} left; decide one with a household_head_change (世帯主変更)"
        )
    for m in measures:
        state = m.state_on(today)
        if state == "期間満了":
            alerts.append(
                f"支援措置期間満了: measure {m.measure_id} ended {m.end.isoformat()} without "
                "an extension; extend or end it"
            )
        elif state != "終了" and m.active_on(today) and extension_opens(m) <= today:
            alerts.append(
                f"支援措置期間終了間近: measure {m.measure_id} ends {m.end.isoformat()}, "
                "within a month"
            )
    return alerts


def _check_inquiry(blocks: list[IssuanceBlock], code: str, today: date) -> None:
    """A block on 照会 refuses the look-up itself (j410)."""
    stopping = next((b for b in blocks if b.blocks_on(today, "照会")), None)
    if stopping is not None:
        raise Refused(
            "inquiry_blocked",
            f"looking up resident {code} is blocked ({stopping.category}: {stopping.reason})",
            message_ja="この方の照会は抑止されています。",
        )


def _block_alerts(blocks: list[IssuanceBlock]) -> list[str]:
    return [
        f"抑止（{b.level}）: {b.category}: {b.reason} ({', '.join(b.processes)})"
        for b in blocks
        if b.released_on is None
    ]
