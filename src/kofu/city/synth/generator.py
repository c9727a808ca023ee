"""A synthetic city: households, residents, family registers, seals, tax and support measures.

Deterministic for a seed.  The shapes follow Japan's published statistics in
round numbers: household sizes of the 2020 census (1: 38 %, 2: 28 %, 3: 17 %,
4: 12 %, 5+: 5 %), an ageing pyramid, about 2.5 % foreign residents, most
family registers domiciled in the city, about half the adults with a
registered seal, and roughly one person in a thousand under a support measure.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from kofu.city.domain.city import CityProfile
from kofu.city.domain.family import child_relationship
from kofu.city.domain.model import (
    Address,
    AttachmentLine,
    FamilyRegister,
    ForeignResidency,
    IssuanceBlock,
    RegisterEntry,
    RegisterMember,
    Resident,
    SealRegistration,
    Sex,
    SupportMeasure,
    TaxAssessment,
)
from kofu.city.domain.support import measure_end
from kofu.city.domain.tax import BASIC_DEDUCTION, pension_income, resident_tax, salary_income
from kofu.city.synth import names
from kofu.core.era import wareki
from kofu.core.identifiers import IndividualNumber, ResidentCode

__all__ = ["CityBatch", "Town", "generate_city"]


@dataclass(frozen=True)
class Town:
    """A town (大字・町) of the city as Japan Post lists it."""

    name: str
    kana: str
    postal_code: str
    chome: bool


@dataclass
class CityBatch:
    """One household's worth of records, ready to store."""

    residents: list[tuple[Resident, list[tuple[date, str, Resident]]]] = field(default_factory=list)
    registers: list[FamilyRegister] = field(default_factory=list)
    seals: list[SealRegistration] = field(default_factory=list)
    taxes: list[TaxAssessment] = field(default_factory=list)
    measures: list[SupportMeasure] = field(default_factory=list)
    blocks: list[IssuanceBlock] = field(default_factory=list)


class _Weighted:
    """Fast repeated weighted choice (cumulative weights + bisect)."""

    def __init__(self, items: Sequence[tuple[object, int]]) -> None:
        self.values = [v for v, _ in items]
        self.cum = list(itertools.accumulate(w for _, w in items))

    def pick(self, rng: random.Random) -> object:
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


_SIZES = _Weighted([(1, 38), (2, 28), (3, 17), (4, 12), (5, 4), (6, 1)])
_SURNAMES = _Weighted([((k, r), w) for k, r, w in names.SURNAMES])
_GIVEN = {
    (sex, decade): _Weighted([((k, r), w) for k, r, w in table[decade]])
    for sex, table in ((Sex.MALE, names.MALE_GIVEN_NAMES), (Sex.FEMALE, names.FEMALE_GIVEN_NAMES))
    for decade in table
}
_FOREIGN = _Weighted([((nat, fam, giv), w) for nat, fam, giv, w in names.FOREIGN_RESIDENTS])
_STATUSES = _Weighted([(s, w) for s, w in names.RESIDENCE_STATUSES])
_OTHER_PREFECTURES = (
    ("東京都", "豊島区"),
    ("東京都", "練馬区"),
    ("神奈川県", "横浜市港北区"),
    ("埼玉県", "さいたま市大宮区"),
    ("埼玉県", "熊谷市"),
    ("群馬県", "高崎市"),
    ("岩手県", "盛岡市"),
    ("宮城県", "仙台市青葉区"),
    ("北海道", "札幌市中央区"),
    ("大阪府", "大阪市北区"),
    ("千葉県", "船橋市"),
    ("栃木県", "宇都宮市"),
)


@dataclass
class _Ctx:
    rng: random.Random
    city: CityProfile
    towns: Sequence[Town]
    today: date
    codes: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    household_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    register_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    seal_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def resident_code(self) -> str:
        while True:
            code = ResidentCode.from_base(f"{self.rng.randrange(10**10):010d}")
            if code not in self.codes:
                self.codes.add(code)
                return code

    def individual_number(self) -> str:
        while True:
            number = IndividualNumber.from_base(f"{self.rng.randrange(10**11):011d}")
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def address(self) -> Address:
        town = self.towns[self.rng.randrange(len(self.towns))]
        r = self.rng
        if town.chome:
            block = f"{r.randint(1, 5)}丁目{r.randint(1, 30)}番{r.randint(1, 20)}号"
        else:
            block = (
                f"{r.randint(1, 3200)}番地{r.randint(1, 12)}"
                if r.random() < 0.7
                else f"{r.randint(1, 3200)}番地"
            )
        building = (
            f"コーポ{town.name[:2]}　{r.randint(1, 3)}0{r.randint(1, 8)}号"
            if r.random() < 0.12
            else ""
        )
        return Address(
            postal_code=town.postal_code,
            prefecture=self.city.prefecture,
            city=self.city.name,
            town=town.name,
            block=block,
            building=building,
        )

    def elsewhere(self) -> Address:
        pref, city = _OTHER_PREFECTURES[self.rng.randrange(len(_OTHER_PREFECTURES))]
        return Address(
            prefecture=pref, city=city, town="本町", block=f"{self.rng.randint(1, 40)}番地"
        )

    def domicile(self, address: Address) -> str:
        if self.rng.random() < 0.8:
            here = f"{self.city.prefecture}{self.city.name}{address.town}"
            return f"{here}{self.rng.randint(1, 3200)}番地"
        other = self.elsewhere()
        return f"{other.prefecture}{other.city}{other.town}{self.rng.randint(1, 99)}番地"


def _given(ctx: _Ctx, sex: Sex, birth: date) -> tuple[str, str]:
    decade = max(1920, min(2020, birth.year // 10 * 10))
    value = _GIVEN[(sex, decade)].pick(ctx.rng)
    assert isinstance(value, tuple)
    return value[0], value[1]


def _birth(ctx: _Ctx, age: int) -> date:
    born = ctx.today.replace(month=1, day=1) - timedelta(days=365 * age)
    return born - timedelta(days=ctx.rng.randrange(365))


def _adult_age(ctx: _Ctx, single: bool) -> int:
    """Head of household's age: young singles and the old dominate one-person homes."""
    r = ctx.rng.random()
    if single:
        return (
            ctx.rng.randint(19, 34)
            if r < 0.4
            else ctx.rng.randint(35, 64)
            if r < 0.7
            else ctx.rng.randint(65, 96)
        )
    return (
        ctx.rng.randint(26, 44)
        if r < 0.4
        else ctx.rng.randint(45, 64)
        if r < 0.75
        else ctx.rng.randint(65, 90)
    )


@dataclass
class _Person:
    name: tuple[str, str]
    kana: tuple[str, str]
    sex: Sex
    birth: date
    relationship: str
    mother: str | None = None
    father: str | None = None


def _household_people(ctx: _Ctx, size: int) -> list[_Person]:
    rng = ctx.rng
    fam = _SURNAMES.pick(rng)
    assert isinstance(fam, tuple)
    surname, surname_kana = fam

    def person(sex: Sex, age: int, rel: str) -> _Person:
        birth = _birth(ctx, age)
        given, given_kana = _given(ctx, sex, birth)
        return _Person((surname, given), (surname_kana, given_kana), sex, birth, rel)

    if size == 1:
        return [person(rng.choice((Sex.MALE, Sex.FEMALE)), _adult_age(ctx, True), "世帯主")]
    head_age = _adult_age(ctx, False)
    if size >= 5:
        head_age = rng.randint(33, 50)
    head_sex = Sex.MALE if rng.random() < 0.82 else Sex.FEMALE
    head = person(head_sex, head_age, "世帯主")
    people = [head]
    single_parent = size >= 2 and rng.random() < 0.12
    if not single_parent:
        spouse_sex = Sex.FEMALE if head_sex is Sex.MALE else Sex.MALE
        spouse_age = max(20, head_age + rng.randint(-6, 3))
        people.append(person(spouse_sex, spouse_age, "妻" if spouse_sex is Sex.FEMALE else "夫"))
    elders = 2 if size >= 6 else 1 if size == 5 else 0
    while len(people) < size - elders:
        mother_age = min(p_age(ctx, p) for p in people)
        child_age = max(0, mother_age - rng.randint(24, 40))
        child = person(rng.choice((Sex.MALE, Sex.FEMALE)), child_age, "子")
        mothers = [p for p in people if p.relationship in ("世帯主", "妻") and p.sex is Sex.FEMALE]
        fathers = [p for p in people if p.relationship in ("世帯主", "夫") and p.sex is Sex.MALE]
        child.mother = mothers[0].name[1] if mothers else None
        child.father = fathers[0].name[1] if fathers else None
        people.append(child)
    for i in range(elders):
        sex = Sex.FEMALE if i == 0 else Sex.MALE
        people.append(
            person(sex, head_age + rng.randint(24, 34), "母" if sex is Sex.FEMALE else "父")
        )
    return people


def p_age(ctx: _Ctx, p: _Person) -> int:
    return ctx.today.year - p.birth.year


def _residents(
    ctx: _Ctx, people: list[_Person], foreign: ForeignResidency | None
) -> list[tuple[Resident, list[tuple[date, str, Resident]]]]:
    rng = ctx.rng
    household_id = f"{next(ctx.household_seq):010d}"
    address = ctx.address()
    head = people[0]
    born_here = rng.random() < 0.4 and foreign is None
    oldest = min(p.birth for p in people)
    earliest = max(oldest + timedelta(days=18 * 365), ctx.today - timedelta(days=40 * 365))
    span = max(1, (ctx.today - timedelta(days=30) - earliest).days)
    moved_in = earliest + timedelta(days=rng.randrange(span))
    moved_within = rng.random() < 0.25
    previous = ctx.elsewhere()
    domicile = None if foreign else ctx.domicile(address)
    here = domicile is not None and domicile.startswith(ctx.city.prefecture + ctx.city.name)
    register_id = f"K{next(ctx.register_seq):09d}" if here else None
    out = []
    for p in people:
        since = max(p.birth, moved_in) if not born_here else p.birth
        prior = ctx.address() if moved_within else None
        set_on = (
            since + timedelta(days=rng.randrange(max(1, (ctx.today - since).days)))
            if moved_within
            else since
        )
        record = Resident(
            resident_code=ctx.resident_code(),
            individual_number=ctx.individual_number(),
            name="　".join(p.name),
            kana="　".join(p.kana),
            birth_date=p.birth,
            sex=p.sex,
            address=address,
            household_id=household_id,
            relationship=p.relationship,
            household_head_name="　".join(head.name),
            became_resident_on=since,
            address_set_on=set_on,
            notified_on=set_on,
            previous_address=None if (born_here or since == p.birth) else previous,
            prior_address=prior,
            domicile=domicile,
            domicile_head="　".join(head.name) if domicile else None,
            family_register_id=None if p.relationship in ("父", "母") else register_id,
            foreign=foreign,
        )
        versions = []
        if moved_within:
            first = record.model_copy(
                update={
                    "address": prior,
                    "prior_address": None,
                    "address_set_on": since,
                    "notified_on": since,
                }
            )
            versions.append((since, "birth" if since == p.birth else "move_in", first))
            versions.append((set_on, "move_within", record))
        else:
            versions.append((since, "birth" if since == p.birth else "move_in", record))
        out.append((record, versions))
    return out


def _register(ctx: _Ctx, people: list[_Person], records: list[Resident]) -> FamilyRegister | None:
    """The household's family register when its domicile is in this city."""
    head = records[0]
    if head.family_register_id is None or head.domicile is None:
        return None
    members = []
    counts: dict[Sex, int] = {Sex.MALE: 0, Sex.FEMALE: 0}
    for p, r in zip(people, records, strict=True):
        if p.relationship in ("父", "母"):
            continue  # the parents' generation has a register of its own
        if p.relationship == "子":
            counts[p.sex] += 1
            rel = child_relationship(p.sex, counts[p.sex])
        elif p.relationship in ("妻", "夫"):
            rel = p.relationship
        else:
            rel = child_relationship(p.sex, ctx.rng.choice((1, 1, 1, 2)))
        entries = [
            RegisterEntry(
                kind="出生",
                on=p.birth,
                details=(
                    ("出生日", wareki(p.birth)),
                    ("出生地", f"{ctx.city.prefecture}{ctx.city.name}"),
                ),
            )
        ]
        if (
            p.relationship in ("世帯主", "妻", "夫")
            and len(people) > 1
            and people[1].relationship in ("妻", "夫")
        ):
            wed = max(people[0].birth, people[1].birth) + timedelta(
                days=365 * ctx.rng.randint(22, 32)
            )
            wed = min(wed, ctx.today - timedelta(days=400))
            spouse = people[1] if p is people[0] else people[0]
            entries.append(
                RegisterEntry(
                    kind="婚姻",
                    on=wed,
                    details=(("婚姻日", wareki(wed)), ("配偶者氏名", "　".join(spouse.name))),
                )
            )
        members.append(
            RegisterMember(
                name=p.name[1],
                kana=p.kana[1],
                birth_date=p.birth,
                sex=p.sex,
                father=p.father
                if p.relationship == "子"
                else f"{ctx.rng.choice(('一郎', '正', '茂', '博'))}",
                mother=p.mother
                if p.relationship == "子"
                else f"{ctx.rng.choice(('ハナ', '和子', '幸子', '洋子'))}",
                relationship=rel,
                resident_code=r.resident_code,
                entries=tuple(entries),
                attachment=tuple(
                    AttachmentLine(address=a, set_on=d)
                    for a, d in (
                        (r.prior_address, r.became_resident_on),
                        (r.address, r.address_set_on),
                    )
                    if a is not None
                ),
            )
        )
    made = min(m.entries[-1].on for m in members)
    return FamilyRegister(
        register_id=head.family_register_id,
        domicile=head.domicile,
        head_name=head.name,
        made_on=made,
        made_reason="婚姻" if len(members) > 1 else "分籍",
        members=tuple(members),
    )


def _extras(ctx: _Ctx, batch: CityBatch) -> None:
    rng = ctx.rng
    fy = ctx.today.year if ctx.today.month >= 6 else ctx.today.year - 1
    for record, _ in batch.residents:
        age = record.age_on(ctx.today)
        if age >= 18 and rng.random() < 0.5:
            batch.seals.append(
                SealRegistration(
                    registration_number=f"{next(ctx.seal_seq):08d}",
                    resident_code=record.resident_code,
                    registered_on=max(
                        record.became_resident_on, record.birth_date + timedelta(days=365 * 18)
                    ),
                    impression=record.family_name
                    if record.foreign is None
                    else record.name.split("　")[0][:4],
                )
            )
        if age >= 16:
            for year in (fy - 1, fy):
                batch.taxes.append(_assess(record, year, rng))
        if rng.random() < 0.0012:
            start = ctx.today - timedelta(days=rng.randrange(300))
            batch.measures.append(
                SupportMeasure(
                    measure_id=f"SM-{record.resident_code}-{start:%Y%m%d}",
                    resident_code=record.resident_code,
                    kind=rng.choice(("DV", "DV", "ストーカー", "児童虐待")),
                    start=start,
                    end=measure_end(start),
                )
            )
        elif rng.random() < 0.0005:
            start = ctx.today - timedelta(days=rng.randrange(100))
            batch.blocks.append(
                IssuanceBlock(
                    block_id=f"BL-{record.resident_code}-{start:%Y%m%d}",
                    resident_code=record.resident_code,
                    reason="不正請求の疑いによる抑止",
                    start=start,
                )
            )


def _assess(record: Resident, fiscal_year: int, rng: random.Random) -> TaxAssessment:
    """A plausible assessment: wages for most working ages, pensions for the old."""
    age = record.age_on(date(fiscal_year - 1, 12, 31))
    revenues: dict[str, int] = {}
    incomes: dict[str, int] = {}
    r = rng.random()
    if age >= 65:
        revenues["公的年金等"] = rng.randrange(600_000, 2_800_000, 1000)
        incomes["雑所得（公的年金等）"] = pension_income(revenues["公的年金等"], age)
    elif age >= 19 and r < 0.78:
        revenues["給与"] = rng.randrange(1_000_000, 9_000_000, 1000)
        incomes["給与所得"] = salary_income(revenues["給与"])
    elif age >= 25 and r < 0.86:
        incomes["事業所得"] = rng.randrange(500_000, 6_000_000, 1000)
    deductions = {"基礎控除": BASIC_DEDUCTION}
    if "給与" in revenues:
        deductions["社会保険料控除"] = revenues["給与"] * 15 // 100
    if record.relationship == "世帯主" and rng.random() < 0.5:
        deductions["配偶者控除"] = 330_000
    total = sum(incomes.values())
    municipal, prefectural = resident_tax(total, sum(deductions.values()))
    return TaxAssessment(
        resident_code=record.resident_code,
        fiscal_year=fiscal_year,
        incomes=incomes,
        revenues=revenues,
        deductions=deductions if total else {},
        municipal_tax=municipal,
        prefectural_tax=prefectural,
        assessed_on=date(fiscal_year, 6, 1),
    )


def _card_number(rng: random.Random) -> str:
    """在留カード番号: two letters, eight digits, two letters."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    head = "".join(rng.choice(letters) for _ in range(2))
    tail = "".join(rng.choice(letters) for _ in range(2))
    return f"{head}{rng.randrange(10**8):08d}{tail}"


def _foreign(ctx: _Ctx, size: int) -> tuple[list[_Person], ForeignResidency]:
    rng = ctx.rng
    value = _FOREIGN.pick(rng)
    assert isinstance(value, tuple)
    nationality, family, given = value
    status = _STATUSES.pick(rng)
    residency = ForeignResidency(
        nationality=nationality,
        residence_status=str(status),
        period_of_stay_until=None
        if status in ("永住者", "特別永住者")
        else ctx.today + timedelta(days=rng.randint(60, 1800)),
        residence_card_number=_card_number(rng),
    )
    people = []
    for i in range(min(size, 3)):
        sex = Sex.MALE if (i == 0) == (rng.random() < 0.55) else Sex.FEMALE
        age = rng.randint(20, 45) if i < 2 else rng.randint(0, 12)
        rel = "世帯主" if i == 0 else ("妻" if sex is Sex.FEMALE else "夫") if i == 1 else "子"
        own_given = given if i == 0 else _FOREIGN.pick(rng)[2]  # type: ignore[index]
        people.append(
            _Person(
                (family, own_given),
                (names.romaji_to_katakana(family), names.romaji_to_katakana(own_given)),
                sex,
                _birth(ctx, age),
                rel,
            )
        )
    return people, residency


def generate_city(
    city: CityProfile, towns: Sequence[Town], residents: int, seed: int, today: date
) -> Iterator[CityBatch]:
    """Households until ``residents`` people exist; one batch per household."""
    ctx = _Ctx(random.Random(f"{city.code}:{seed}"), city, towns, today)
    made = 0
    while made < residents:
        size = min(int(str(_SIZES.pick(ctx.rng))), residents - made)
        if ctx.rng.random() < 0.025:
            people, foreign = _foreign(ctx, size)
        else:
            people, foreign = _household_people(ctx, size), None
        batch = CityBatch()
        batch.residents = _residents(ctx, people, foreign)
        records = [r for r, _ in batch.residents]
        register = None if foreign else _register(ctx, people, records)
        if register is not None:
            batch.registers.append(register)
        _extras(ctx, batch)
        made += len(people)
        yield batch
