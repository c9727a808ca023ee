"""Register events applied through the service layer, on both storage backends.

Each event kind has a test that applies it with ``apply_events`` and checks what
it wrote: the resident records and their history, the family registers and
their 附票, seals, tax, support measures and issuance blocks.  Refused events
must name the problem and leave every table exactly as it was, together with
the events before them in the same batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import test_register_cancellation
import test_register_corrections
import test_register_foreign
import test_register_head
import test_register_issuance
import test_register_order
import test_register_special
import test_register_support
from sqlalchemy import Engine, func, select
from stdnum import luhn
from stdnum.jp import in_ as stdnum_in

from kofu.city.adapters import tables
from kofu.city.adapters.repository import StoredVersion
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.events import EVENT_KINDS, Change, event_kinds
from kofu.city.domain.model import (
    FamilyRegister,
    IssuanceBlock,
    RegisterMember,
    Resident,
    ResidentStatus,
    SealRegistration,
    Sex,
    SupportMeasure,
    TaxAssessment,
)
from kofu.city.services.events import apply_events
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound
from kofu.core.identifiers import ResidentCode

TODAY = date(2026, 11, 23)  # the seeded city's "today"; its newest change is before it
DAY = date(2026, 12, 1)  # events in these tests happen from here on
LATER = date(2026, 12, 15)

Rows = dict[str, list[dict[str, Any]]]


class City:
    """The seeded city as the tests see it: apply events, read records back.

    A batch is applied on the day of its latest notification (the clerk's today),
    and the registers are read as they stand on the latest such day, unless asked
    for another.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.today = TODAY

    def uow(self, on: date | None = None) -> CityUnitOfWork:
        return CityUnitOfWork(self.engine, today=on or self.today)

    def apply(self, *events: Any, today: date | None = None) -> list[Change]:
        day = today or max([self.today, *(_notified_on(e) for e in events)])
        clock = FixedClock(datetime.combine(day, time(10), JST))
        changes = apply_events(uow=self.uow(day), events=list(events), clock=clock)
        self.today = max(self.today, day)
        return changes

    def person(self, code: str, on: date | None = None) -> Resident:
        with self.uow(on) as uow:
            found = uow.registers.resident(code)
        assert found is not None, f"no resident {code}"
        return found

    def everyone(self) -> list[Resident]:
        with self.uow() as uow:
            return uow.registers.residents()

    def household(self, household_id: str, on: date | None = None) -> list[Resident]:
        with self.uow(on) as uow:
            return list(uow.registers.household(household_id))

    def history(self, code: str) -> list[StoredVersion]:
        with self.uow() as uow:
            return uow.registers.history(code)

    def register(self, register_id: str | None) -> FamilyRegister:
        assert register_id is not None
        with self.uow() as uow:
            found = uow.registers.family_register(register_id)
        assert found is not None, f"no family register {register_id}"
        return found

    def member(self, person: Resident, register_id: str | None = None) -> RegisterMember:
        register = self.register(register_id or person.family_register_id)
        found = register.member_for(person.resident_code)
        assert found is not None, f"{person.name} is not in register {register.register_id}"
        return found

    def seal(self, code: str) -> SealRegistration | None:
        with self.uow() as uow:
            return uow.registers.seal(code)

    def tax(self, code: str, fiscal_year: int) -> TaxAssessment | None:
        with self.uow() as uow:
            return uow.registers.tax(code, fiscal_year)

    def measures(self, code: str) -> list[SupportMeasure]:
        with self.uow() as uow:
            return list(uow.registers.support_measures(code))

    def blocks(self, code: str) -> list[IssuanceBlock]:
        with self.uow() as uow:
            return list(uow.registers.issuance_blocks(code))

    def event_log_size(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(tables.event_log)).scalar_one()
            )

    def find(self, what: str, test: Callable[[Resident], bool]) -> Resident:
        """The first live resident (by code) that passes ``test``; the seed is fixed."""
        for person in self.everyone():
            if person.is_resident and test(person):
                return person
        pytest.fail(f"the seeded city has no {what}")

    def household_size(self, person: Resident) -> int:
        return len(self.household(person.household_id))

    def in_register_here(self, person: Resident) -> bool:
        if person.family_register_id is None:
            return False
        register = self.register(person.family_register_id)
        member = register.member_for(person.resident_code)
        return register.closed_on is None and member is not None and not member.removed


def _notified_on(event: Any) -> date:
    """The day an event is notified (its effective day unless told), or long ago if malformed."""
    try:
        return date.fromisoformat(event.get("notified") or event["effective"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return date.min


@pytest.fixture
def city(seeded_engine: Engine) -> City:
    """The seeded city, this test's own."""
    return City(seeded_engine)


@pytest.fixture
def shared_city(shared_seeded_engine: Engine) -> City:
    """The seeded city shared by this module's refusals, which must leave it as it was."""
    return City(shared_seeded_engine)


def adult(person: Resident, low: int = 20, high: int = 120) -> bool:
    return low <= person.age_on(TODAY) <= high and person.foreign is None


def given_name(person: Resident) -> str:
    return person.name.split("　", 1)[1]


def kinds_of(changes: list[Change]) -> list[str]:
    return [c.kind for c in changes]


# --- 住民基本台帳: birth, death, moves, names, households ---------------------------------


def test_birth_writes_the_child_into_the_household_and_the_register(city: City) -> None:
    def childless_mother(p: Resident) -> bool:
        if p.sex is not Sex.FEMALE or p.relationship != "妻" or not adult(p, 20, 42):
            return False
        if not city.in_register_here(p):
            return False
        register = city.register(p.family_register_id)
        return not any(m.mother == given_name(p) for m in register.members)

    mother = city.find("young married woman without children", childless_mother)
    head = next(m for m in city.household(mother.household_id) if m.relationship == "世帯主")
    size = city.household_size(mother)
    births = [
        ("蓮", "レン", Sex.MALE, date(2026, 12, 1), "長男"),
        ("陽翔", "ハルト", Sex.MALE, date(2027, 12, 3), "二男"),
        ("葵", "アオイ", Sex.FEMALE, date(2028, 12, 5), "長女"),
    ]
    for given, kana, sex, born, relationship in births:
        changes = city.apply(
            {
                "kind": "birth",
                "effective": born.isoformat(),
                "notified": date(born.year, 12, 10).isoformat(),
                "name": given,
                "kana": f"{mother.kana.split('　')[0]}　{kana}",
                "sex": sex.value,
                "mother": mother.resident_code,
                "father": head.resident_code,
            }
        )
        assert kinds_of(changes) == ["birth"]
        child = city.person(changes[0].resident)
        assert luhn.is_valid(child.resident_code)
        assert stdnum_in.is_valid(child.individual_number)
        assert child.name == f"{mother.family_name}　{given}"
        assert child.birth_date == born
        assert child.notified_on == date(born.year, 12, 10)
        assert child.household_id == mother.household_id
        assert child.relationship == "子"
        assert child.household_head_name == head.name
        assert child.address == mother.address
        assert child.previous_address is None
        assert (child.family_register_id, child.domicile) == (
            mother.family_register_id,
            mother.domicile,
        )
        assert [(v.effective, v.kind) for v in city.history(child.resident_code)] == [
            (born, "birth")
        ]
        member = city.member(child)
        assert member.relationship == relationship
        assert (member.name, member.mother, member.father) == (given, given_name(mother), head.name)
        assert member.entries[0].kind == "出生"
        assert member.attachment[0].address == mother.address
    assert city.household_size(mother) == size + len(births)
    sons = [m for m in city.register(mother.family_register_id).members if m.relationship == "二男"]
    assert [m.name for m in sons] == ["陽翔"]


def test_death_of_the_head_strikes_the_register_ends_the_seal_and_leaves_no_head(
    city: City,
) -> None:
    def head_with_seal(p: Resident) -> bool:
        seal = city.seal(p.resident_code)
        return (
            p.relationship == "世帯主"
            and city.household_size(p) >= 3
            and city.in_register_here(p)
            and seal is not None
            and seal.active
        )

    head = city.find("household head with a seal and a family", head_with_seal)
    rest = [m for m in city.household(head.household_id) if m.resident_code != head.resident_code]

    changes = city.apply(
        {
            "kind": "death",
            "resident": head.resident_code,
            "effective": DAY.isoformat(),
            "notified": "2026-12-03",
        }
    )

    assert kinds_of(changes) == ["death"] + ["household_head_absent"] * len(rest)
    dead = city.person(head.resident_code)
    assert dead.status is ResidentStatus.DECEASED
    assert dead.removal_reason == "死亡"
    assert (dead.removed_on, dead.removal_notified_on) == (DAY, date(2026, 12, 3))
    assert city.history(head.resident_code)[-1].kind == "death"
    seal = city.seal(head.resident_code)
    assert seal is not None and seal.abolished_on == DAY and not seal.active
    member = city.member(dead)
    assert member.removed and member.removed_reason == "死亡"
    assert (member.entries[-1].kind, member.entries[-1].on) == ("死亡", DAY)
    rest_codes = {r.resident_code for r in rest}
    register = city.register(dead.family_register_id)
    assert not any(m.removed for m in register.members if m.resident_code in rest_codes)
    household = city.household(head.household_id)
    assert {m.resident_code for m in household} == {m.resident_code for m in rest}
    # 世帯主不在 until the clerk's 世帯主変更 (jyuki-stnd 4.0.4): nobody is made head silently
    assert all(
        m.household_head_name == "" and m.former_head == dead.resident_code for m in household
    )
    assert [m.relationship for m in household].count("世帯主") == 0
    with pytest.raises(Conflict, match="除票"):
        city.apply(
            {
                "kind": "name_change",
                "resident": head.resident_code,
                "effective": "2026-12-05",
                "name": "山田　太郎",
                "kana": "ヤマダ　タロウ",
            }
        )


def test_death_of_a_member_leaves_the_head_alone(city: City) -> None:
    child = city.find(
        "child in a household",
        lambda p: p.relationship == "子" and city.household_size(p) >= 3,
    )
    before = {m.resident_code: m for m in city.household(child.household_id)}
    changes = city.apply(
        {"kind": "death", "resident": child.resident_code, "effective": "2026-12-01"}
    )
    assert kinds_of(changes) == ["death"]
    after = {m.resident_code: m for m in city.household(child.household_id)}
    assert set(after) == set(before) - {child.resident_code}
    assert all(after[c] == before[c] for c in after)
    assert city.person(child.resident_code).removal_notified_on == DAY  # defaults to effective


def test_move_out_notified_in_advance_is_planned_then_removed(city: City) -> None:
    person = city.find(
        "adult with a seal, not heading a household",
        lambda p: (
            p.relationship != "世帯主"
            and adult(p)
            and (s := city.seal(p.resident_code)) is not None
            and s.active
        ),
    )
    destination = {
        "prefecture": "東京都",
        "city": "豊島区",
        "town": "南池袋",
        "block": "1丁目1番1号",
    }
    changes = city.apply(
        {
            "kind": "move_out",
            "resident": person.resident_code,
            "effective": LATER.isoformat(),
            "notified": DAY.isoformat(),
            "destination": destination,
        }
    )
    assert kinds_of(changes) == ["move_out_planned", "move_out"]
    assert [c.effective for c in changes] == [DAY, LATER]
    versions = city.history(person.resident_code)
    planned, gone = versions[-2], versions[-1]
    assert (planned.effective, planned.kind) == (DAY, "move_out_planned")
    assert planned.record.status is ResidentStatus.RESIDENT
    assert planned.record.planned_move_out is not None
    assert planned.record.planned_move_out.planned_on == LATER
    assert planned.record.planned_move_out.notified_on == DAY
    assert planned.record.planned_move_out.destination.city == "豊島区"
    assert (gone.effective, gone.kind) == (LATER, "move_out")
    assert gone.record.status is ResidentStatus.MOVED_OUT
    assert gone.record.removal_reason == "転出"
    assert gone.record.removed_on == LATER
    assert gone.record.move_out_destination is not None
    assert gone.record.move_out_destination.text == "東京都豊島区南池袋1丁目1番1号"
    # Applied on the day of notification: until the planned day the person still lives here.
    assert city.today == DAY
    assert city.person(person.resident_code) == planned.record
    assert city.person(person.resident_code, on=LATER - timedelta(days=1)) == planned.record
    assert person.resident_code in {m.resident_code for m in city.household(person.household_id)}
    seal = city.seal(person.resident_code)
    assert seal is not None and seal.abolished_on == LATER
    assert seal.active_on(LATER - timedelta(days=1)) and not seal.active_on(LATER)
    # From the planned day on, the record is the 除票.
    assert city.person(person.resident_code, on=LATER) == gone.record
    assert person.resident_code not in {
        m.resident_code for m in city.household(person.household_id, on=LATER)
    }


def test_move_out_notified_afterwards_removes_the_head_and_reheads(city: City) -> None:
    head = city.find(
        "household head with one other",
        lambda p: p.relationship == "世帯主" and city.household_size(p) == 2,
    )
    rest = [m for m in city.household(head.household_id) if m.resident_code != head.resident_code]
    changes = city.apply(
        {
            "kind": "move_out",
            "resident": head.resident_code,
            "effective": DAY.isoformat(),
            "notified": "2026-12-08",
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        }
    )
    assert kinds_of(changes) == ["move_out"] + ["household_head_change"] * len(rest)
    gone = city.person(head.resident_code)
    assert (gone.status, gone.removed_on) == (ResidentStatus.MOVED_OUT, DAY)
    assert gone.removal_notified_on == date(2026, 12, 8) and gone.planned_move_out is None
    assert [v.kind for v in city.history(head.resident_code)][-1] == "move_out"
    assert not any(v.kind == "move_out_planned" for v in city.history(head.resident_code))
    # the only member left becomes head by the city's own act (職権, jyuki-stnd 4.0.4)
    assert city.person(rest[0].resident_code).relationship == "世帯主"


def test_move_in_founds_a_household_or_joins_one(city: City) -> None:
    changes = city.apply(
        {
            "kind": "move_in",
            "effective": DAY.isoformat(),
            "notified": "2026-12-02",
            "name": "青木　翔太",
            "kana": "アオキ　ショウタ",
            "birth_date": "1990-05-05",
            "sex": "male",
            "address": {
                "town": "上柴町西",
                "block": "4丁目2番3号",
                "building": "メゾン上柴　201号",
            },
            "previous_address": {"prefecture": "群馬県", "city": "高崎市", "town": "八島町"},
            "domicile": "群馬県高崎市八島町1番地",
            "domicile_head": "青木　翔太",
        }
    )
    assert kinds_of(changes) == ["move_in"]
    newcomer = city.person(changes[0].resident)
    assert luhn.is_valid(newcomer.resident_code)
    assert stdnum_in.is_valid(newcomer.individual_number)
    assert (newcomer.relationship, newcomer.household_head_name) == ("世帯主", "青木　翔太")
    assert newcomer.address.text == "埼玉県深谷市上柴町西4丁目2番3号　メゾン上柴　201号"
    assert newcomer.address.postal_code == "3660052"
    assert newcomer.previous_address is not None
    assert newcomer.previous_address.text == "群馬県高崎市八島町"
    assert (newcomer.became_resident_on, newcomer.notified_on) == (DAY, date(2026, 12, 2))
    assert newcomer.domicile == "群馬県高崎市八島町1番地"
    assert newcomer.family_register_id is None
    assert [m.resident_code for m in city.household(newcomer.household_id)] == [
        newcomer.resident_code
    ]

    code = ResidentCode.from_base("1234567890")
    city.apply(
        {
            "kind": "move_in",
            "effective": LATER.isoformat(),
            "resident": code,
            "individual_number": "983205673214",
            "name": "ソン　ミンジ",
            "kana": "ソン　ミンジ",
            "birth_date": "1995-02-28",
            "sex": "female",
            "address": {"town": "上柴町西", "block": "4丁目2番3号"},
            "previous_address": {"prefecture": "東京都", "city": "豊島区"},
            "household": newcomer.household_id,
            "relationship": "同居人",
            "foreign": {
                "nationality": "韓国",
                "residence_status": "留学",
                "residence_card_number": "AB12345678CD",
            },
        }
    )
    lodger = city.person(code)
    assert lodger.individual_number == "983205673214"
    assert (lodger.household_id, lodger.relationship) == (newcomer.household_id, "同居人")
    assert lodger.household_head_name == newcomer.name
    assert lodger.address == newcomer.address
    assert lodger.foreign is not None and lodger.foreign.residence_status == "留学"
    assert lodger.domicile is None
    assert [m.resident_code for m in city.household(newcomer.household_id)] == [
        newcomer.resident_code,
        code,
    ]


def test_move_within_moves_the_household_and_writes_the_attachment(city: City) -> None:
    head = city.find(
        "household of three with a register here",
        lambda p: (
            p.relationship == "世帯主" and city.household_size(p) >= 3 and city.in_register_here(p)
        ),
    )
    members = city.household(head.household_id)
    old = head.address
    changes = city.apply(
        {
            "kind": "move_within",
            "resident": head.resident_code,
            "effective": DAY.isoformat(),
            "notified": "2026-12-04",
            "address": {"town": "血洗島", "block": "100番地2"},
        }
    )
    assert sorted(c.resident for c in changes) == sorted(m.resident_code for m in members)
    assert all(c.kind == "move_within" for c in changes)
    for member in members:
        moved = city.person(member.resident_code)
        assert moved.address.text == "埼玉県深谷市血洗島100番地2"
        assert moved.address.postal_code == "3660006"
        assert moved.prior_address == old
        assert (moved.address_set_on, moved.notified_on) == (DAY, date(2026, 12, 4))
        assert moved.became_resident_on == member.became_resident_on
        if city.in_register_here(moved):
            line = city.member(moved).attachment[-1]
            assert (line.address, line.set_on) == (moved.address, DAY)

    one = members[1]
    city.apply(
        {
            "kind": "move_within",
            "resident": one.resident_code,
            "effective": LATER.isoformat(),
            "address": {"town": "仲町", "block": "5番地"},
            "whole_household": False,
        }
    )
    assert city.person(one.resident_code).address.town == "仲町"
    assert city.person(head.resident_code).address.town == "血洗島"


def test_name_change_of_the_head_renames_the_head_in_every_member(city: City) -> None:
    head = city.find(
        "household head with others",
        lambda p: p.relationship == "世帯主" and city.household_size(p) >= 2,
    )
    changes = city.apply(
        {
            "kind": "name_change",
            "resident": head.resident_code,
            "effective": DAY.isoformat(),
            "name": f"{head.family_name}　新之助",
            "kana": f"{head.kana.split('　')[0]}　シンノスケ",
        }
    )
    assert changes[0].kind == "name_change"
    assert changes[0].changed["name"] == f"{head.family_name}　新之助"
    renamed = city.person(head.resident_code)
    assert renamed.name == f"{head.family_name}　新之助"
    assert renamed.name_history == (head.name,)
    assert renamed.kana.endswith("シンノスケ")
    for member in city.household(head.household_id):
        assert member.household_head_name == renamed.name
    assert kinds_of(changes)[1:] == ["household_head_change"] * (city.household_size(head) - 1)


def test_household_change_founds_and_joins_households(city: City) -> None:
    child = city.find(
        "grown-up child at home",
        lambda p: p.relationship == "子" and adult(p, 18),
    )
    old_household = child.household_id
    changes = city.apply(
        {"kind": "household_change", "resident": child.resident_code, "effective": DAY.isoformat()}
    )
    assert kinds_of(changes) == ["household_change"]
    alone = city.person(child.resident_code)
    assert alone.household_id != old_household
    assert (alone.relationship, alone.household_head_name) == ("世帯主", child.name)
    assert child.resident_code not in {m.resident_code for m in city.household(old_household)}

    head = next(m for m in city.household(old_household) if m.relationship == "世帯主")
    city.apply(
        {
            "kind": "household_change",
            "resident": child.resident_code,
            "effective": LATER.isoformat(),
            "household": old_household,
            "relationship": "子",
        }
    )
    back = city.person(child.resident_code)
    assert (back.household_id, back.relationship) == (old_household, "子")
    assert back.household_head_name == head.name
    assert [v.kind for v in city.history(child.resident_code)][-2:] == ["household_change"] * 2


# --- 戸籍: marriage, divorce, adoption, transfers ------------------------------------------


def _single(city: City, sex: Sex, other_than: str = "") -> Resident:
    return city.find(
        f"single {sex.value} adult living alone with a register here",
        lambda p: (
            p.sex is sex
            and p.relationship == "世帯主"
            and adult(p, 22, 60)
            and city.household_size(p) == 1
            and city.in_register_here(p)
            and p.family_name != other_than
        ),
    )


def test_marriage_makes_a_register_and_renames_the_spouse(city: City) -> None:
    groom = _single(city, Sex.MALE)
    bride = _single(city, Sex.FEMALE, other_than=groom.family_name)
    domicile = "埼玉県深谷市仲町11番地"
    changes = city.apply(
        {
            "kind": "marriage",
            "resident": groom.resident_code,
            "spouse": bride.resident_code,
            "domicile": domicile,
            "effective": DAY.isoformat(),
        }
    )
    assert set(kinds_of(changes)) == {"marriage"}
    husband, wife = city.person(groom.resident_code), city.person(bride.resident_code)
    assert husband.name == groom.name and husband.name_history == ()
    assert wife.name == f"{groom.family_name}　{given_name(bride)}"
    assert wife.name_history == (bride.name,)
    assert wife.kana.split("　") == [groom.kana.split("　")[0], bride.kana.split("　")[1]]
    assert husband.family_register_id == wife.family_register_id
    assert husband.family_register_id not in (groom.family_register_id, bride.family_register_id)
    for person in (husband, wife):
        assert (person.domicile, person.domicile_head) == (domicile, groom.name)

    register = city.register(husband.family_register_id)
    assert (register.domicile, register.head_name) == (domicile, groom.name)
    assert (register.made_on, register.made_reason) == (DAY, "婚姻")
    assert [m.name for m in register.members] == [given_name(groom), given_name(bride)]
    assert register.members[0].relationship == city.member(groom).relationship
    assert register.members[1].relationship == "妻"
    assert register.members[1].entries[-1].kind == "婚姻"
    for before in (groom, bride):
        left = city.member(before, before.family_register_id)
        assert left.removed and left.removed_reason == "婚姻"
        assert ("新本籍", domicile) in left.entries[-1].details


def test_divorce_restores_the_name_in_a_new_register(city: City) -> None:
    groom = _single(city, Sex.MALE)
    bride = _single(city, Sex.FEMALE, other_than=groom.family_name)
    city.apply(
        {
            "kind": "marriage",
            "resident": groom.resident_code,
            "spouse": bride.resident_code,
            "domicile": "埼玉県深谷市仲町11番地",
            "effective": DAY.isoformat(),
        }
    )
    married = city.person(bride.resident_code)
    changes = city.apply(
        {"kind": "divorce", "resident": bride.resident_code, "effective": LATER.isoformat()}
    )
    assert "divorce" in kinds_of(changes)
    divorced = city.person(bride.resident_code)
    assert divorced.name == bride.name
    assert divorced.kana == bride.kana
    assert divorced.name_history == (bride.name, married.name)
    assert divorced.domicile_head == bride.name
    assert divorced.family_register_id not in (married.family_register_id, None)
    register = city.register(divorced.family_register_id)
    assert (register.made_reason, register.made_on, register.head_name) == (
        "離婚",
        LATER,
        bride.name,
    )
    assert [m.resident_code for m in register.members] == [bride.resident_code]
    old = city.member(married, married.family_register_id)
    assert old.removed and old.removed_reason == "離婚"
    husband = city.person(groom.resident_code)
    assert not city.member(husband).removed
    with pytest.raises(Conflict, match="not a spouse"):
        city.apply({"kind": "divorce", "resident": groom.resident_code, "effective": "2026-12-20"})


def test_adoption_moves_the_adoptee_into_the_adopters_register(city: City) -> None:
    adopter = city.find(
        "older household head with a register here",
        lambda p: p.relationship == "世帯主" and adult(p, 45, 75) and city.in_register_here(p),
    )
    adoptee = city.find(
        "young person in another register",
        lambda p: (
            p.relationship == "子"
            and p.birth_date > adopter.birth_date
            and city.in_register_here(p)
            and p.family_register_id != adopter.family_register_id
        ),
    )
    changes = city.apply(
        {
            "kind": "adoption",
            "resident": adoptee.resident_code,
            "adopter": adopter.resident_code,
            "effective": DAY.isoformat(),
        }
    )
    assert kinds_of(changes) == ["adoption"]
    adopted = city.person(adoptee.resident_code)
    assert adopted.family_register_id == adopter.family_register_id
    assert (adopted.domicile, adopted.domicile_head) == (adopter.domicile, adopter.domicile_head)
    member = city.member(adopted)
    assert member.relationship == ("養子" if adoptee.sex is Sex.MALE else "養女")
    assert member.entries[-1].kind == "養子縁組"
    assert ("養親氏名", adopter.name) in member.entries[-1].details
    old = city.member(adoptee, adoptee.family_register_id)
    assert old.removed and old.removed_reason == "養子縁組"

    with pytest.raises(InvalidInput, match="older than the adoptee"):
        city.apply(
            {
                "kind": "adoption",
                "resident": adopter.resident_code,
                "adopter": adoptee.resident_code,
                "effective": LATER.isoformat(),
            }
        )


def test_domicile_transfer_out_closes_the_register(city: City) -> None:
    head = city.find(
        "register head with family",
        lambda p: (
            p.relationship == "世帯主"
            and city.in_register_here(p)
            and city.register(p.family_register_id).head_name == p.name
            and len(city.register(p.family_register_id).members) >= 2
        ),
    )
    register = city.register(head.family_register_id)
    codes = [m.resident_code for m in register.members if m.resident_code and not m.removed]
    changes = city.apply(
        {
            "kind": "domicile_transfer_out",
            "resident": head.resident_code,
            "new_domicile": "東京都千代田区千代田1番地",
            "effective": DAY.isoformat(),
        }
    )
    assert sorted(c.resident for c in changes) == sorted(codes)
    closed = city.register(register.register_id)
    assert closed.closed_on == DAY
    assert closed.closed_reason is not None and "東京都千代田区千代田1番地" in closed.closed_reason
    for code in codes:
        member = city.person(code)
        assert member.domicile == "東京都千代田区千代田1番地"
        assert member.family_register_id is None
    spouse_or_child = next(c for c in codes if c != head.resident_code)
    with pytest.raises(Conflict, match="no family register kept here"):
        city.apply(
            {
                "kind": "domicile_transfer_out",
                "resident": spouse_or_child,
                "new_domicile": "東京都千代田区千代田2番地",
                "effective": LATER.isoformat(),
            }
        )


def test_the_spouse_may_transfer_the_domicile_too(city: City) -> None:
    wife = city.find(
        "wife in a register kept here",
        lambda p: p.relationship == "妻" and city.in_register_here(p),
    )
    register = city.register(wife.family_register_id)
    assert register.head_name != wife.name
    city.apply(
        {
            "kind": "domicile_transfer_out",
            "resident": wife.resident_code,
            "new_domicile": "岩手県花巻市大通一丁目1番地",
            "effective": DAY.isoformat(),
        }
    )
    assert city.register(register.register_id).closed_on == DAY
    assert city.person(wife.resident_code).domicile == "岩手県花巻市大通一丁目1番地"


def test_domicile_transfer_in_makes_a_register_here(city: City) -> None:
    person = city.find(
        "Japanese resident domiciled elsewhere",
        lambda p: (
            p.foreign is None
            and p.family_register_id is None
            and p.relationship == "世帯主"
            and adult(p)
        ),
    )
    domicile = "埼玉県深谷市本住町20番地"
    changes = city.apply(
        {
            "kind": "domicile_transfer_in",
            "resident": person.resident_code,
            "domicile": domicile,
            "effective": DAY.isoformat(),
        }
    )
    assert kinds_of(changes) == ["domicile_transfer_in"]
    moved = city.person(person.resident_code)
    assert (moved.domicile, moved.domicile_head) == (domicile, person.name)
    register = city.register(moved.family_register_id)
    assert (register.domicile, register.made_reason, register.made_on) == (domicile, "転籍", DAY)
    assert [m.resident_code for m in register.members] == [person.resident_code]
    assert ("従前本籍", person.domicile) in register.members[0].entries[0].details
    with pytest.raises(Conflict, match="already kept in this city"):
        city.apply(
            {
                "kind": "domicile_transfer_in",
                "resident": person.resident_code,
                "domicile": domicile,
                "effective": LATER.isoformat(),
            }
        )


# --- 印鑑登録, tax, support measures, issuance blocks ---------------------------------------


def test_seal_register_and_abolish(city: City) -> None:
    person = city.find(
        "adult without a seal",
        lambda p: adult(p, 18) and city.seal(p.resident_code) is None,
    )
    changes = city.apply(
        {"kind": "seal_register", "resident": person.resident_code, "effective": DAY.isoformat()}
    )
    assert kinds_of(changes) == ["seal_register"]
    seal = city.seal(person.resident_code)
    assert seal is not None and seal.active
    assert (seal.registered_on, seal.impression) == (DAY, person.family_name)
    assert changes[0].changed["seal"]["registration_number"] == seal.registration_number
    with pytest.raises(Conflict, match="already has seal"):
        city.apply(
            {"kind": "seal_register", "resident": person.resident_code, "effective": "2026-12-02"}
        )

    changes = city.apply(
        {"kind": "seal_abolish", "resident": person.resident_code, "effective": LATER.isoformat()}
    )
    assert kinds_of(changes) == ["seal_abolish"]
    abolished = city.seal(person.resident_code)
    assert abolished is not None and abolished.abolished_on == LATER and not abolished.active
    with pytest.raises(Conflict, match="no registered seal"):
        city.apply(
            {"kind": "seal_abolish", "resident": person.resident_code, "effective": "2026-12-20"}
        )

    city.apply(
        {
            "kind": "seal_register",
            "resident": person.resident_code,
            "effective": "2026-12-21",
            "impression": "印",
        }
    )
    again = city.seal(person.resident_code)
    assert again is not None and again.active and again.impression == "印"
    assert again.registration_number != seal.registration_number


def test_tax_assessment_is_stored_for_the_fiscal_year(city: City) -> None:
    person = city.find("adult", lambda p: adult(p, 30, 60))
    city.apply(
        {
            "kind": "tax_assessment",
            "resident": person.resident_code,
            "effective": DAY.isoformat(),
            "fiscal_year": 2027,
            "incomes": {"給与所得": 3_560_000},
            "revenues": {"給与": 5_000_000},
            "deductions": {"基礎控除": 430_000, "社会保険料控除": 750_000},
            "dependents": 1,
            "municipal_tax": 140_700,
            "prefectural_tax": 94_800,
        }
    )
    assessment = city.tax(person.resident_code, 2027)
    assert assessment is not None
    assert (assessment.income_year, assessment.assessed_on) == (2026, DAY)
    assert (assessment.total_income, assessment.total_deductions) == (3_560_000, 1_180_000)
    assert assessment.taxable_income == 2_380_000
    assert (assessment.municipal_tax, assessment.prefectural_tax) == (140_700, 94_800)
    assert assessment.dependents == 1

    city.apply(
        {
            "kind": "tax_assessment",
            "resident": person.resident_code,
            "effective": LATER.isoformat(),
            "fiscal_year": 2027,
            "municipal_tax": 0,
            "prefectural_tax": 0,
        }
    )
    corrected = city.tax(person.resident_code, 2027)
    assert corrected is not None and corrected.municipal_tax == 0 and corrected.incomes == {}
    with pytest.raises(InvalidInput, match="incomes cannot be negative"):
        city.apply(
            {
                "kind": "tax_assessment",
                "resident": person.resident_code,
                "effective": LATER.isoformat(),
                "fiscal_year": 2027,
                "incomes": {"給与所得": -1},
                "municipal_tax": 0,
                "prefectural_tax": 0,
            }
        )


def test_support_measure_starts_extends_in_the_last_month_and_ends(city: City) -> None:
    person = city.find(
        "adult without a support measure",
        lambda p: adult(p) and not city.measures(p.resident_code),
    )
    code = person.resident_code
    changes = city.apply(
        {
            "kind": "support_measure",
            "resident": code,
            "effective": "2026-12-01",
            "measure": "ストーカー",
            "provisional": True,
        }
    )
    assert changes[0].changed == {"end": "2027-11-30"}
    [measure] = city.measures(code)
    assert (measure.start, measure.end, measure.kind) == (DAY, date(2027, 11, 30), "ストーカー")
    assert measure.provisional and measure.active_on(DAY)

    with pytest.raises(Conflict, match=r"from 2027-10-30 to 2027-11-30"):
        city.apply({"kind": "support_measure_extend", "resident": code, "effective": "2027-10-29"})
    assert city.measures(code) == [measure]

    city.apply({"kind": "support_measure_extend", "resident": code, "effective": "2027-10-30"})
    [extended] = city.measures(code)
    assert extended.end == date(2028, 11, 30)
    assert (extended.extended_times, extended.provisional) == (1, False)
    assert extended.start == DAY

    with pytest.raises(Conflict, match="already has an active support measure"):
        city.apply({"kind": "support_measure", "resident": code, "effective": "2028-01-05"})

    city.apply({"kind": "support_measure_end", "resident": code, "effective": "2028-02-01"})
    [ended] = city.measures(code)
    assert ended.ended_on == date(2028, 2, 1)
    assert ended.active_on(date(2028, 1, 31)) and not ended.active_on(date(2028, 2, 1))
    with pytest.raises(Conflict, match="no active support measure"):
        city.apply({"kind": "support_measure_end", "resident": code, "effective": "2028-02-02"})


def test_issuance_block_release_and_temporary_release(city: City) -> None:
    person = city.find(
        "adult without an issuance block",
        lambda p: adult(p) and not city.blocks(p.resident_code),
    )
    code = person.resident_code
    city.apply(
        {
            "kind": "issuance_block",
            "resident": code,
            "effective": DAY.isoformat(),
            "reason": "不正請求の疑い",
            "end": "2026-12-10",
        }
    )
    [block] = city.blocks(code)
    assert (block.reason, block.start, block.end, block.level) == (
        "不正請求の疑い",
        DAY,
        date(2026, 12, 10),
        "error",
    )
    assert block.blocks_on(date(2027, 1, 1))  # the end date does not lift it

    with pytest.raises(Conflict, match="already has an issuance block"):
        city.apply(
            {
                "kind": "issuance_block",
                "resident": code,
                "effective": "2026-12-02",
                "reason": "二重",
            }
        )

    city.apply(
        {
            "kind": "issuance_block_temporary_release",
            "resident": code,
            "effective": "2026-12-05",
            "until": "2026-12-05T17:00:00+09:00",
        }
    )
    [paused] = city.blocks(code)
    assert paused.temporary_release_until == "2026-12-05T17:00:00+09:00"
    assert paused.released_on is None and paused.blocks_on(date(2026, 12, 6))
    with pytest.raises(InvalidInput, match="must end after it starts"):
        city.apply(
            {
                "kind": "issuance_block_temporary_release",
                "resident": code,
                "effective": "2026-12-05",
                "until": "2026-12-04T17:00:00+09:00",
            }
        )

    city.apply({"kind": "issuance_block_release", "resident": code, "effective": "2026-12-07"})
    [released] = city.blocks(code)
    assert released.released_on == date(2026, 12, 7)
    assert not released.blocks_on(date(2026, 12, 8))
    with pytest.raises(Conflict, match="no issuance block to release"):
        city.apply({"kind": "issuance_block_release", "resident": code, "effective": "2026-12-08"})


def test_alert_level_block_does_not_stop_issuance(city: City) -> None:
    person = city.find("adult", lambda p: adult(p) and not city.blocks(p.resident_code))
    city.apply(
        {
            "kind": "issuance_block",
            "resident": person.resident_code,
            "effective": DAY.isoformat(),
            "reason": "確認を要する",
            "level": "alert",
        }
    )
    [block] = city.blocks(person.resident_code)
    assert block.level == "alert" and not block.blocks_on(LATER)


# --- Juki-net special moves (転出届・転入届の特例) --------------------------------------------


def test_special_move_out_plans_each_member_and_leaves_the_head_to_the_clerk(city: City) -> None:
    head = city.find(
        "household head with two others",
        lambda p: p.relationship == "世帯主" and city.household_size(p) >= 3 and adult(p),
    )
    rest = [m for m in city.household(head.household_id) if m.resident_code != head.resident_code]
    moving, staying = [head.resident_code, rest[0].resident_code], rest[1:]
    destination = {"prefecture": "岩手県", "city": "花巻市", "town": "東和町北成島"}
    changes = city.apply(
        {
            "kind": "special_move_out",
            "effective": LATER.isoformat(),
            "notified": DAY.isoformat(),
            "members": moving,
            "destination": destination,
            "to_city": "032051",
            "move_out_id": "mo-test-0001",
        }
    )
    assert kinds_of(changes)[:4] == ["move_out_planned", "move_out"] * 2
    after = changes[4:]
    if len(staying) == 1:  # the one who stays becomes head by 職権 (jyuki-stnd 4.0.4)
        assert kinds_of(after) == ["household_head_change"]
        assert city.person(staying[0].resident_code, on=LATER).relationship == "世帯主"
    else:  # two or more: no head until the clerk's 世帯主変更, with an alert
        assert kinds_of(after) == ["household_head_absent"] * len(staying)
        assert all(c.alert for c in after)
        for member in staying:
            assert city.person(member.resident_code, on=LATER).relationship != "世帯主"


def test_a_move_in_notice_confirms_a_planned_move_out(city: City) -> None:
    """転入通知の受理: 予定 → 確定, the record a 除票 from the notice on (jyuki-stnd 4.1.3.1.1)."""
    person = city.find("adult not head", lambda p: adult(p) and p.relationship != "世帯主")
    osaka = {"prefecture": "大阪府", "city": "大阪市北区"}
    city.apply(
        {
            "kind": "move_out",
            "resident": person.resident_code,
            "effective": LATER.isoformat(),
            "notified": DAY.isoformat(),
            "destination": osaka,
        }
    )
    changes = city.apply(
        {
            "kind": "move_in_notice",
            "resident": person.resident_code,
            "effective": DAY.isoformat(),
            "moved_on": DAY.isoformat(),
            "destination": osaka | {"town": "梅田一丁目"},
        }
    )
    assert kinds_of(changes) == ["move_out_confirmed"]
    removed = city.person(person.resident_code, on=DAY)
    assert not removed.is_resident and removed.confirmed_move_out is not None


def test_special_move_in_keeps_codes_and_numbers_and_founds_the_household(city: City) -> None:
    first, second = ResidentCode.from_base("5550000001"), ResidentCode.from_base("5550000002")
    member = {
        "individual_number": "983205673214",
        "kana": "ハナマキ　タロウ",
        "birth_date": "1980-04-01",
        "sex": "male",
        "domicile": "岩手県花巻市東和町1番地",
        "domicile_head": "花巻　太郎",
    }
    event = {
        "kind": "special_move_in",
        "effective": DAY.isoformat(),
        "notified": "2026-12-03",
        "from_city": "032051",
        "move_out_id": "mo-test-0002",
        "address": {"town": "上柴町西", "block": "4丁目2番3号"},
        "previous_address": {"prefecture": "岩手県", "city": "花巻市", "town": "東和町北成島"},
        "members": [
            member | {"resident": first, "name": "花巻　太郎", "relationship": "世帯主"},
            member
            | {
                "resident": second,
                "individual_number": "123456789018",
                "name": "花巻　花子",
                "kana": "ハナマキ　ハナコ",
                "sex": "female",
                "relationship": "妻",
            },
        ],
    }
    changes = city.apply(event)
    assert kinds_of(changes) == ["move_in", "move_in"]
    head, wife = city.person(first), city.person(second)
    assert (head.individual_number, wife.individual_number) == ("983205673214", "123456789018")
    assert head.household_id == wife.household_id
    assert (wife.relationship, wife.household_head_name) == ("妻", "花巻　太郎")
    assert wife.previous_address is not None and wife.previous_address.city == "花巻市"
    assert head.domicile == "岩手県花巻市東和町1番地"
    with pytest.raises(Conflict, match="already in use"):  # the same data twice: nobody twice
        city.apply(event | {"effective": LATER.isoformat(), "notified": LATER.isoformat()})


# --- every kind is covered; the log; refusals -------------------------------------------

TESTS_BY_KIND = {
    "birth": test_birth_writes_the_child_into_the_household_and_the_register,
    "death": test_death_of_the_head_strikes_the_register_ends_the_seal_and_leaves_no_head,
    "move_in": test_move_in_founds_a_household_or_joins_one,
    "move_out": test_move_out_notified_in_advance_is_planned_then_removed,
    "move_within": test_move_within_moves_the_household_and_writes_the_attachment,
    "name_change": test_name_change_of_the_head_renames_the_head_in_every_member,
    "household_change": test_household_change_founds_and_joins_households,
    "household_head_change": test_register_head.test_the_clerks_head_change_restates_every_relation,
    "household_order": test_register_order.test_the_clerks_order_and_one_who_joins_last,
    "marriage": test_marriage_makes_a_register_and_renames_the_spouse,
    "divorce": test_divorce_restores_the_name_in_a_new_register,
    "adoption": test_adoption_moves_the_adoptee_into_the_adopters_register,
    "domicile_transfer_out": test_domicile_transfer_out_closes_the_register,
    "domicile_transfer_in": test_domicile_transfer_in_makes_a_register_here,
    "seal_register": test_seal_register_and_abolish,
    "seal_abolish": test_seal_register_and_abolish,
    "tax_assessment": test_tax_assessment_is_stored_for_the_fiscal_year,
    "support_measure": test_support_measure_starts_extends_in_the_last_month_and_ends,
    "support_measure_extend": test_support_measure_starts_extends_in_the_last_month_and_ends,
    "support_measure_end": test_support_measure_starts_extends_in_the_last_month_and_ends,
    "issuance_block": test_issuance_block_release_and_temporary_release,
    "issuance_block_release": test_issuance_block_release_and_temporary_release,
    "issuance_block_temporary_release": test_issuance_block_release_and_temporary_release,
    "alias_set": test_register_foreign.test_the_alias_keeps_its_history_of_entries_and_removals,
    "alias_remove": test_register_foreign.test_the_alias_keeps_its_history_of_entries_and_removals,
    "support_measure_correct": (
        test_register_support.test_the_end_is_corrected_and_alerts_come_before_and_after_it
    ),
    "support_measure_override": (
        test_register_support.test_the_officer_releases_her_own_copy_at_the_counter_only
    ),
    "sex_change": test_register_corrections.test_sex_change_and_former_surname_are_written,
    "former_surname": test_register_corrections.test_sex_change_and_former_surname_are_written,
    "special_adoption": (
        test_register_corrections.test_a_special_adoption_writes_the_child_as_the_adopters_own
    ),
    "correction": (
        test_register_corrections.test_a_correction_changes_the_items_and_keeps_what_was_written
    ),
    "certificate_disposal": (
        test_register_issuance.test_the_log_keeps_place_terminal_staff_copies_and_disposal
    ),
    "special_move_out": test_special_move_out_plans_each_member_and_leaves_the_head_to_the_clerk,
    "special_move_in": test_special_move_in_keeps_codes_and_numbers_and_founds_the_household,
    "move_in_notice": test_a_move_in_notice_confirms_a_planned_move_out,
    "special_adoption_dissolution": (
        test_register_special.test_a_special_adoption_dissolved_takes_the_child_back_unseen
    ),
    "cancellation": (
        test_register_cancellation.test_a_move_within_cancelled_restores_the_address_and_keeps_both_lines
    ),
}


def test_every_event_kind_has_a_test() -> None:
    kinds = [k["kind"] for k in event_kinds()]
    assert len(kinds) == len(EVENT_KINDS) == len(set(kinds))
    assert set(TESTS_BY_KIND) == set(kinds)
    for entry in event_kinds():
        assert entry["fields"]["effective"]["required"] is True
        assert entry["description"], entry["kind"]


def test_a_batch_is_logged_once_per_event(city: City) -> None:
    person = city.find("adult", lambda p: adult(p) and city.seal(p.resident_code) is None)
    before = city.event_log_size()
    city.apply(
        {"kind": "seal_register", "resident": person.resident_code, "effective": "2026-12-01"},
        {"kind": "seal_abolish", "resident": person.resident_code, "effective": "2026-12-02"},
    )
    assert city.event_log_size() == before + 2


def test_an_event_dated_after_today_is_refused(
    shared_city: City, rows_of: Callable[[Engine], Rows]
) -> None:
    person = _someone(shared_city)
    before = rows_of(shared_city.engine)
    with pytest.raises(InvalidInput, match="after today"):
        shared_city.apply(
            {
                "kind": "name_change",
                "resident": person.resident_code,
                "effective": LATER.isoformat(),
                "name": f"{person.family_name}　未来",
                "kana": f"{person.kana.split('　')[0]}　ミライ",
            },
            today=DAY,
        )
    assert rows_of(shared_city.engine) == before


def test_a_malformed_field_is_named_without_the_event_kind(city: City) -> None:
    with pytest.raises(InvalidInput) as caught:
        city.apply(
            {
                "kind": "tax_assessment",
                "resident": _someone(city).resident_code,
                "effective": "2026-12-12",
                "fiscal_year": 1999,
                "municipal_tax": 0,
                "prefectural_tax": 0,
            }
        )
    assert caught.value.field == "fiscal_year"
    assert "fiscal_year: Input should be greater than or equal to 2000" in caught.value.message


def test_a_birth_naming_an_unknown_father_is_refused(city: City) -> None:
    mother = city.find("adult woman", lambda p: p.sex is Sex.FEMALE and adult(p, 20, 45))
    father = ResidentCode.from_base("9999999999")
    before = len(city.everyone())
    with pytest.raises(NotFound, match=f"no resident with code {father} \\(father\\)"):
        city.apply(
            {
                "kind": "birth",
                "effective": "2026-12-12",
                "name": "一郎",
                "kana": "イチロウ",
                "sex": "male",
                "mother": mother.resident_code,
                "father": father,
            }
        )
    assert len(city.everyone()) == before


def test_an_unseeded_city_refuses_events(city_engine: Engine, clock: FixedClock) -> None:
    with pytest.raises(NotFound, match="not been seeded"):
        apply_events(
            uow=CityUnitOfWork(city_engine),
            events=[{"kind": "death", "resident": "00061671806", "effective": "2026-12-01"}],
            clock=clock,
        )


def _someone(city: City) -> Resident:
    return city.find("adult", lambda p: adult(p, 30, 60) and p.relationship == "世帯主")


def _child_under_15(city: City) -> Resident:
    return city.find("child under 15", lambda p: p.age_on(DAY) < 15)


def _married_woman(city: City) -> Resident:
    return city.find(
        "wife in a register here",
        lambda p: p.relationship == "妻" and city.in_register_here(p),
    )


def _husband(city: City) -> Resident:
    def heads_a_married_register(p: Resident) -> bool:
        if p.relationship != "世帯主" or not city.in_register_here(p):
            return False
        register = city.register(p.family_register_id)
        return register.head_name == p.name and any(
            m.relationship in ("妻", "夫") and not m.removed for m in register.members
        )

    return city.find("head of a register with a spouse", heads_a_married_register)


def _measure_holder(city: City) -> Resident:
    return city.find("adult", lambda p: adult(p, 20, 29) and not city.measures(p.resident_code))


def _wrong_check_digit(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


Case = tuple[Callable[[City], list[dict[str, Any]]], type[KofuError], str]

REFUSALS: dict[str, Case] = {
    "unknown resident": (
        lambda c: [
            {
                "kind": "death",
                "resident": ResidentCode.from_base("9999999999"),
                "effective": "2026-12-02",
            }
        ],
        NotFound,
        r"no resident with code 99999999990",
    ),
    "wrong check digit": (
        lambda c: [
            {
                "kind": "death",
                "resident": _wrong_check_digit(_someone(c).resident_code),
                "effective": "2026-12-02",
            }
        ],
        InvalidInput,
        r"resident code \d{11} has a wrong check digit",
    ),
    "wrong check digit on a seal": (
        lambda c: [
            {
                "kind": "seal_abolish",
                "resident": _wrong_check_digit(_someone(c).resident_code),
                "effective": "2026-12-02",
            }
        ],
        InvalidInput,
        r"wrong check digit",
    ),
    "out of time order": (
        lambda c: [
            {
                "kind": "move_within",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-05",
                "address": {"town": "仲町", "block": "1番地"},
                "whole_household": False,
            },
        ],
        Conflict,
        r"already has a change effective 2026-12-10; events must come in time order",
    ),
    "move out to the same city": (
        lambda c: [
            {
                "kind": "move_out",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
                "destination": {"prefecture": "埼玉県", "city": "深谷市", "town": "仲町"},
            }
        ],
        InvalidInput,
        r"a move within the city is a move_within",
    ),
    "seal for a child under 15": (
        lambda c: [
            {
                "kind": "seal_register",
                "resident": _child_under_15(c).resident_code,
                "effective": "2026-12-12",
            }
        ],
        InvalidInput,
        r"from age 15",
    ),
    "extension too early": (
        lambda c: [
            {
                "kind": "support_measure",
                "resident": _measure_holder(c).resident_code,
                "effective": "2026-12-12",
            },
            {
                "kind": "support_measure_extend",
                "resident": _measure_holder(c).resident_code,
                "effective": "2027-01-12",
            },
        ],
        Conflict,
        r"an extension can be asked from 2027-11-11 to 2027-12-11",
    ),
    "malformed number": (
        lambda c: [
            {
                "kind": "tax_assessment",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
                "fiscal_year": 2027,
                "municipal_tax": "lots",
                "prefectural_tax": 0,
            }
        ],
        InvalidInput,
        r"municipal_tax: Input should be a valid integer",
    ),
    "malformed date": (
        lambda c: [
            {"kind": "death", "resident": _someone(c).resident_code, "effective": "2026-13-01"}
        ],
        InvalidInput,
        r"effective: Input should be a valid date",
    ),
    "missing field": (
        lambda c: [
            {
                "kind": "marriage",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
                "domicile": "埼玉県深谷市仲町1番地",
            }
        ],
        InvalidInput,
        r"spouse: Field required",
    ),
    "unknown field": (
        lambda c: [
            {
                "kind": "death",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
                "cause": "老衰",
            }
        ],
        InvalidInput,
        r"cause: Extra inputs are not permitted",
    ),
    "unknown kind": (
        lambda c: [
            {
                "kind": "resurrection",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
            }
        ],
        InvalidInput,
        r"'resurrection' .* does not match any of the expected tags",
    ),
    "not an object": (
        lambda c: [["death"]],
        InvalidInput,
        r"valid dictionary",
    ),
    "temporary release with a malformed end": (
        lambda c: [
            {
                "kind": "issuance_block",
                "resident": _measure_holder(c).resident_code,
                "effective": "2026-12-12",
                "reason": "抑止",
            },
            {
                "kind": "issuance_block_temporary_release",
                "resident": _measure_holder(c).resident_code,
                "effective": "2026-12-12",
                "until": "tomorrow",
            },
        ],
        InvalidInput,
        r"until must be an ISO-8601 instant .*not 'tomorrow'",
    ),
    "unknown town": (
        lambda c: [
            {
                "kind": "move_within",
                "resident": _someone(c).resident_code,
                "effective": "2026-12-12",
                "address": {"town": "霞が関", "block": "1番地"},
            }
        ],
        InvalidInput,
        r"'霞が関' is not a town of 深谷市",
    ),
    "marrying a married person": (
        lambda c: [
            {
                "kind": "marriage",
                "resident": _single(c, Sex.MALE).resident_code,
                "spouse": _married_woman(c).resident_code,
                "effective": "2026-12-12",
                "domicile": "埼玉県深谷市仲町1番地",
            }
        ],
        Conflict,
        r"resident \d{11} is already married",
    ),
    "a married head marrying again": (
        lambda c: [
            {
                "kind": "marriage",
                "resident": _husband(c).resident_code,
                "spouse": _single(c, Sex.FEMALE).resident_code,
                "effective": "2026-12-12",
                "domicile": "埼玉県深谷市仲町1番地",
            }
        ],
        Conflict,
        r"resident \d{11} is already married \(重婚",
    ),
    "marrying under 18": (
        lambda c: [
            {
                "kind": "marriage",
                "resident": _single(c, Sex.MALE).resident_code,
                "spouse": _child_under_15(c).resident_code,
                "effective": "2026-12-12",
                "domicile": "埼玉県深谷市仲町1番地",
            }
        ],
        InvalidInput,
        r"resident \d{11} is under 18, the age of marriage",
    ),
    "marrying oneself": (
        lambda c: [
            {
                "kind": "marriage",
                "resident": _someone(c).resident_code,
                "spouse": _someone(c).resident_code,
                "effective": "2026-12-12",
                "domicile": "埼玉県深谷市仲町1番地",
            }
        ],
        InvalidInput,
        r"cannot marry themselves",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_a_refused_event_changes_nothing_in_its_batch(
    case: str, shared_city: City, rows_of: Callable[[Engine], Rows]
) -> None:
    city = shared_city
    make, error, message = REFUSALS[case]
    someone = _someone(city)
    first = {
        "kind": "name_change",
        "resident": someone.resident_code,
        "effective": "2026-12-10",
        "name": f"{someone.family_name}　改名",
        "kana": f"{someone.kana.split('　')[0]}　カイメイ",
    }
    bad = make(city)
    before = rows_of(city.engine)
    with pytest.raises(error) as caught:
        city.apply(first, *bad)
    assert re.search(message, caught.value.message), caught.value.message
    assert caught.value.message.startswith(f"event {1 + len(bad)}: ")
    assert caught.value.message.endswith("; no event was applied")
    assert str(caught.value) == caught.value.message
    assert rows_of(city.engine) == before
    assert city.person(someone.resident_code).name == someone.name
