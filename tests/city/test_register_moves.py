"""The ordinary move between two cities (jyuki-stnd 4.1.3.0.3, 4.1.3.1.1).

A 転出届 to another city gives the person a 転出証明書 for themselves or the
members moving with them, with every item the ordinance names; nobody else
in the household is on it, it is free, and a store never prints it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.domain.certificates import IssueRequest
from kofu.core.errors import InvalidInput, Refused

HEAD, WIFE, SON = code("9900300001"), code("9900300002"), code("9900300003")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}
PLANNED = date(2026, 12, 20)


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    family(
        w,
        (HEAD, "甲斐　一郎", "1970-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1972-05-02", "female", "妻"),
        (SON, "甲斐　次郎", "2000-06-03", "male", "子"),
    )
    return w


def _move_out(resident: str, effective: date, notified: date = DAY) -> dict[str, Any]:
    return {
        "kind": "move_out",
        "resident": resident,
        "effective": effective.isoformat(),
        "notified": notified.isoformat(),
        "destination": OSAKA,
    }


def test_the_household_moving_together_gets_one_move_out_certificate(world: World) -> None:
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))  # who stays last
    head, wife = world.person(HEAD), world.person(WIFE)
    issued = issue(world, HEAD, type="tenshutsu", household="all")
    text = pdf_text(issued.pdf)
    assert text.startswith("転出証明書")
    assert "甲斐一郎" in text and "甲斐花子" in text and "甲斐次郎" not in text  # the son stays
    for person in (head, wife):
        assert person.resident_code in text and person.individual_number in text
    assert "世帯主甲斐一郎" in text and "続柄妻" in text
    assert "本籍東京都千代田区千代田1番" in text
    assert "転出予定年月日令和8年12月20日" in text
    assert "転出先（予定）大阪府大阪市北区梅田一丁目1番1号" in text
    assert "届出年月日令和8年12月1日" in text
    assert "上記の者から転出の届出があったことを証明する。" in text
    assert set(issued.subjects) == {HEAD, WIFE}
    alone = pdf_text(issue(world, WIFE, type="tenshutsu").pdf)
    assert "甲斐花子" in alone and "甲斐一郎（" not in alone  # the head's name only as 世帯主


def test_a_move_notified_after_the_day_prints_as_done(world: World) -> None:
    world.apply(_move_out(SON, date(2026, 11, 25)), on=DAY)
    text = pdf_text(issue(world, SON, type="tenshutsu").pdf)
    assert "転出年月日令和8年11月25日" in text and "転出予定" not in text
    assert "転出先大阪府大阪市北区" in text


def test_who_has_not_moved_out_or_told_too_late_gets_none(world: World) -> None:
    with pytest.raises(Refused) as none:
        issue(world, HEAD, type="tenshutsu")
    assert none.value.reason == "no_move_out"
    world.apply(_move_out(SON, date(2026, 11, 10)), on=DAY)  # 21 days late: 職権, no certificate
    with pytest.raises(Refused) as late:
        issue(world, SON, type="tenshutsu")
    assert late.value.reason == "late_move_out"


def test_only_members_moving_together_and_never_at_a_store(world: World) -> None:
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))  # who stays last
    with pytest.raises(InvalidInput, match=f"{SON} does not move out"):
        issue(world, HEAD, type="tenshutsu", members=(WIFE, SON))
    chosen = issue(world, HEAD, type="tenshutsu", members=(WIFE,))
    assert chosen.subjects == (WIFE,)
    with pytest.raises(Refused) as store:
        issue(world, HEAD, type="tenshutsu", channel="store")
    assert store.value.reason == "counter_only"
    for option in ({"items": ("head",)}, {"form": "person"}, {"history": True}):
        with pytest.raises(InvalidInput):
            IssueRequest.parse(type="tenshutsu", resident_code=HEAD, **option)
