"""No register text carries a control or bidirectional-override character, however it comes in.

A name with NUL, an escape sequence or a right-to-left override (U+202E)
was stored and printed on certificates.  Every way in is tried: the service
(what ``kofu event`` and the API call), ``kofu event`` itself, the city's
API, and the domicile registration at the center and at the city.  Each is
refused naming the field, and nothing changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from apps import calling, party_apps
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.events import apply_events
from kofu.city.services.seeding import seed_city
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine, migrate
from kofu.core.errors import InvalidInput
from kofu.core.text import check_plain, unplain_character

KOFU = Path(sys.executable).with_name("kofu")
DAY = date(2026, 12, 1)
Rows = dict[str, list[dict[str, Any]]]

ATTACKS = {
    "nul": "青木\x00翔太",
    "escape": "青木\x1b[2J翔太",
    "c1": "青木\x85翔太",
    "rlo": "青木\u202e太翔",
    "isolate": "青木\u2067翔太",
    "mark": "青木\u200f翔太",
    "tab": "青木\t翔太",
}


def move_in(**changes: Any) -> dict[str, Any]:
    """A valid 転入届 into 深谷市, with ``changes`` (``address__town`` sets a nested field)."""
    event: dict[str, Any] = {
        "kind": "move_in",
        "effective": DAY.isoformat(),
        "name": "青木　翔太",
        "kana": "アオキ　ショウタ",
        "birth_date": "1990-05-05",
        "sex": "male",
        "address": {"town": "上柴町西", "block": "4丁目2番3号"},
        "previous_address": {"prefecture": "群馬県", "city": "高崎市", "town": "八島町"},
        "domicile": "群馬県高崎市八島町1番地",
        "domicile_head": "青木　翔太",
    }
    for key, value in changes.items():
        outer, _, inner = key.partition("__")
        if inner:
            event[outer] = {**event[outer], inner: value}
        else:
            event[key] = value
    return event


FIELDS = {  # the field as an event names it → how to put the attack there
    "name": lambda text: move_in(name=text),
    "kana": lambda text: move_in(kana=text),
    "address.town": lambda text: move_in(address__town=text),
    "address.building": lambda text: move_in(address__building=text),
    "previous_address.city": lambda text: move_in(previous_address__city=text),
    "domicile": lambda text: move_in(domicile=text),
    "domicile_head": lambda text: move_in(domicile_head=text),
}


def apply(engine: Engine, *events: dict[str, Any]) -> None:
    clock = FixedClock(datetime.combine(DAY, time(10), JST))
    apply_events(uow=CityUnitOfWork(engine, today=DAY), events=list(events), clock=clock)


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("field", FIELDS)
def test_an_event_with_such_text_is_refused_naming_the_field(
    shared_seeded_engine: Engine,
    rows_of: Callable[[Engine], Rows],
    field: str,
    attack: str,
) -> None:
    before = rows_of(shared_seeded_engine)
    with pytest.raises(InvalidInput) as refused:
        apply(shared_seeded_engine, FIELDS[field](ATTACKS[attack]))
    assert refused.value.field == field
    assert "control or bidirectional-override" in refused.value.message
    assert rows_of(shared_seeded_engine) == before


def test_every_text_of_every_event_kind_is_checked(shared_seeded_engine: Engine) -> None:
    """Fields no table above lists (a seal's characters, a block's reason) are refused too."""
    someone = "00000000000"
    for event, field in [
        ({"kind": "seal_register", "impression": "青\u202e木"}, "impression"),
        ({"kind": "issuance_block", "reason": "DV\x1b[0m"}, "reason"),
        ({"kind": "marriage", "spouse": someone, "domicile": "高崎市\x00"}, "domicile"),
        ({"kind": "name_change", "name": "青木　翔太", "kana": "アオキ\u2066"}, "kana"),
        ({"kind": "tax_assessment", "incomes": {"給与\u202e": 1}}, "incomes"),
    ]:
        body = {"resident": someone, "effective": DAY.isoformat(), **event}
        with pytest.raises(InvalidInput) as refused:
            apply(shared_seeded_engine, body)
        assert refused.value.field == field, event


def test_plain_japanese_text_passes() -> None:
    plain = ["青木　翔太", "アオキ　ショウタ", "𠮷野家", "メゾン上柴　201号", "髙橋ｰ", "👨‍👩‍👧"]
    for text in plain:
        assert unplain_character(text) is None, text
        check_plain(name=text)
    assert unplain_character("a\u202eb") == "U+202E (RIGHT-TO-LEFT OVERRIDE)"
    assert unplain_character("\x00") == "U+0000 (a control character)"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded 深谷市 under a KOFU_HOME of its own, for the CLI."""
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(f"sqlite:///{home / 'city_112186.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code="112186", residents=30, seed=3, today=date(2026, 11, 23))
    engine.dispose()
    return home


def test_kofu_event_refuses_it_and_applies_nothing(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-12-01T10:00:00+09:00"}
    good, bad = move_in(), move_in(name=ATTACKS["rlo"])
    stdin = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [good, bad])
    result = subprocess.run(
        [str(KOFU), "event", "--city", "112186", "--file", "-"],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "event 2: name may not contain" in result.stderr
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in result.stderr
    assert "no event was applied" in result.stderr and "Traceback" not in result.stderr
    engine = make_engine(f"sqlite:///{home / 'city_112186.sqlite'}")
    with CityUnitOfWork(engine, today=DAY) as uow:
        assert not any(p.name == "青木　翔太" for p in uow.registers.residents())  # nor event 1
    engine.dispose()


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return party_apps(tmp_path_factory.mktemp("parties"))


def test_the_api_refuses_it_and_applies_nothing(apps: dict[str, FastAPI]) -> None:
    call = calling(apps["city"])
    before = call("GET", "/residents", params={"limit": 1000}).json()
    rename = {"kind": "name_change", "resident": before[0]["resident_code"]}
    rename |= {"effective": "2026-11-24", "name": "青木　翔太", "kana": "アオキ　ショウタ"}
    answer = call("POST", "/events", json=[rename, rename | {"kana": ATTACKS["escape"]}])
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["field"] == "kana" and "U+001B" in error["message"], error
    assert call("GET", "/residents", params={"limit": 1000}).json() == before


@pytest.mark.parametrize("field", ["domicile", "head_name"])
def test_domicile_registrations_refuse_it(apps: dict[str, FastAPI], field: str) -> None:
    at_center = {"session": "s", "city": "032051", "domicile": "岩手県花巻市1番地"}
    at_center |= {"head_name": "花巻　太郎", field: ATTACKS["rlo"]}
    answer = calling(apps["center"])("POST", "/domicile-registrations", json=at_center)
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    at_city = {k: v for k, v in at_center.items() if k not in ("session", "city")}
    at_city |= {"auth_serial": "c0ffee", "name": "花巻　花子", "birth_date": "1990-01-01"}
    answer = calling(apps["city"])(
        "POST", "/domicile-registrations", json=at_city | {"sex": "female"}
    )
    assert answer.status_code == 422 and answer.json()["field"] == field, answer.text


def test_the_authority_refuses_such_facts_for_a_certificate(apps: dict[str, FastAPI]) -> None:
    """The signature certificate carries name and address for years (基本4情報)."""
    facts = {"name": ATTACKS["rlo"], "sex": "1", "birth_date": "1990-05-05", "address": "花巻市"}
    body = {"city": "032051", "resident_code": "1" * 11, "card_id": "c-1"}
    body |= {"birth_date": "1990-05-05", "card_expiry": "2036-05-05", "facts": facts}
    body |= {"auth_public_key_pem": "-----BEGIN PUBLIC KEY-----"}
    answer = calling(apps["jpki"])("POST", "/certificates", json=body)
    assert answer.status_code == 422 and answer.json()["field"] == "name", answer.text


def test_a_card_application_refuses_such_a_facility(apps: dict[str, FastAPI]) -> None:
    call = calling(apps["city"])
    resident = call("GET", "/residents?limit=1").json()[0]["resident_code"]
    body = {"resident": resident, "channel": "group_outreach", "facility": ATTACKS["escape"]}
    answer = call("POST", "/card/applications", json=body)
    assert answer.status_code == 422 and answer.json()["field"] == "facility", answer.text
