"""本籍地利用登録 in the domicile city's store, on SQLite and PostgreSQL: apply, decide, issue."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import FamilyRegister, RegisterMember
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.domicile import (
    apply_for_domicile_use,
    decide_registration,
    issue_from_domicile,
)
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, Refused
from kofu.core.holder import identity_digest

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))  # a Tuesday


def _someone_registered(engine: Engine) -> tuple[FamilyRegister, RegisterMember]:
    with CityUnitOfWork(engine, today=NOON.today()) as uow:
        register = uow.registers.family_register("K000000001")
    assert register is not None
    return register, next(m for m in register.members if not m.removed)


def _apply(engine: Engine, serial: str, head: str, member: RegisterMember, domicile: str) -> str:
    made = apply_for_domicile_use(
        uow=CityUnitOfWork(engine),
        auth_serial=serial,
        domicile=domicile,
        head_name=head,
        name=member.name.replace("\u3000", " "),  # typed with a plain space
        birth_date=member.birth_date,
        sex=member.sex.value,
        rules=StoreRules(),
        clock=NOON,
    )
    return made.registration_id


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(t.domicile_registrations)
        return int(conn.execute(query).scalar_one())


def _issue(engine: Engine, serial: str) -> str:
    issued = issue_from_domicile(
        uow=CityUnitOfWork(engine),
        auth_serial=serial,
        type="koseki-kojin",
        rules=StoreRules(),
        clock=NOON,
    )
    return issued.holder_identity


def test_apply_decide_and_issue(seeded_engine: Engine) -> None:
    register, member = _someone_registered(seeded_engine)
    with pytest.raises(Refused) as wrong:
        _apply(seeded_engine, "ABC1", "誰か　別人", member, register.domicile)
    assert wrong.value.reason == "domicile_not_found"
    assert _count(seeded_engine) == 0  # a refusal leaves nothing behind
    registration = _apply(seeded_engine, "ABC1", register.head_name, member, register.domicile)
    with pytest.raises(Refused) as pending:
        _issue(seeded_engine, "abc1")
    assert pending.value.reason == "domicile_pending"
    decide_registration(
        uow=CityUnitOfWork(seeded_engine),
        registration_id=registration,
        approve=True,
        reason=None,
        clock=NOON,
    )
    with pytest.raises(Conflict):
        decide_registration(
            uow=CityUnitOfWork(seeded_engine),
            registration_id=registration,
            approve=False,
            reason="twice",
            clock=NOON,
        )
    expected = identity_digest(member.name, member.birth_date.isoformat(), member.sex.value)
    assert _issue(seeded_engine, "ABC1") == expected
    with pytest.raises(Refused) as renewed:  # another certificate of the same person
        _issue(seeded_engine, "ABC2")
    assert renewed.value.reason == "domicile_not_registered"


def test_a_rejected_registration_says_so(seeded_engine: Engine) -> None:
    register, member = _someone_registered(seeded_engine)
    registration = _apply(seeded_engine, "DEF1", register.head_name, member, register.domicile)
    decide_registration(
        uow=CityUnitOfWork(seeded_engine),
        registration_id=registration,
        approve=False,
        reason="本人確認ができません",
        clock=NOON,
    )
    with pytest.raises(Refused) as rejected:
        _issue(seeded_engine, "DEF1")
    assert rejected.value.reason == "domicile_rejected"
