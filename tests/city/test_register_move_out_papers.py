"""The papers of a move-out besides the 転出証明書 (jyuki-stnd 4.1.3.0.3, 4.1.3.0.4).

A move-out notified more than 14 days late is written ex officio and gets
the 転出証明書に準ずる証明書 (`--in-lieu`), saying it stands in for the
転出証明書 as the paper for the 転入届.  A move-out by the special procedure
prints its 転出証明書 only on request, marked 「特例による転出処理済」.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import InvalidInput, Refused

HEAD, WIFE, SON = code("9900800001"), code("9900800002"), code("9900800003")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}


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


def _move_out(resident: str, moved: date) -> dict[str, Any]:
    return {
        "kind": "move_out",
        "resident": resident,
        "effective": moved.isoformat(),
        "notified": DAY.isoformat(),
        "destination": OSAKA,
    }


def test_a_late_move_out_gets_the_certificate_in_lieu(world: World) -> None:
    world.apply(_move_out(SON, date(2026, 11, 10)))  # 21 days late: 職権記載
    with pytest.raises(Refused) as late:
        issue(world, SON, type="tenshutsu")
    assert late.value.reason == "late_move_out" and "--in-lieu" in late.value.message
    text = pdf_text(issue(world, SON, type="tenshutsu", in_lieu=True).pdf)
    assert text.startswith("転出証明書に準ずる証明書")
    assert "転出年月日令和8年11月10日" in text and "転出先大阪府大阪市北区梅田一丁目1番1号" in text
    assert "転出証明書に代えて、転入届に添付すべき書類として発行したものです。" in text
    assert "上記の者が転出したことを証明する。" in text and "再交付" not in text
    again = pdf_text(issue(world, SON, type="tenshutsu", in_lieu=True).pdf)
    assert "再交付" in again  # lost and asked for again (4.1.3.0.3)


def test_the_certificate_in_lieu_only_for_a_late_move_out(world: World) -> None:
    world.apply(_move_out(SON, date(2026, 11, 25)))  # within 14 days: a notification
    with pytest.raises(InvalidInput, match="notified in time"):
        issue(world, SON, type="tenshutsu", in_lieu=True)
    with pytest.raises(InvalidInput, match="in-lieu"):
        issue(world, SON, type="johyo", in_lieu=True)
    assert "準ずる" not in pdf_text(issue(world, SON, type="tenshutsu").pdf)


def test_a_special_move_out_prints_its_mark(world: World) -> None:
    special = {
        "kind": "special_move_out",
        "effective": "2026-12-20",
        "notified": DAY.isoformat(),
        "members": [SON],
        "destination": OSAKA,
        "to_city": "271276",
        "move_out_id": "mo-test-1",
    }
    world.apply(special, _move_out(WIFE, date(2026, 11, 25)))
    text = pdf_text(issue(world, SON, type="tenshutsu").pdf)
    assert "特例による転出処理済" in text and "転出予定年月日令和8年12月20日" in text
    assert "特例による転出処理済" not in pdf_text(issue(world, WIFE, type="tenshutsu").pdf)
