"""職権記載 of changes nobody notified, or too late (jyuki-stnd 4.1.3.0.1, 4.2.0.1–4.2.0.5).

A 転出届 made more than 14 days after the move is no notification: the city
writes the move-out ex officio.  The clerk may write any notifiable change so
(届出の準用), with why, the 申出日 and the day the person was told.  The
統合記載欄 says 「（職権記載）」 with those dates; the next change does not.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from register_world import DAY, World, code, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.services.queries import show_resident
from kofu.core.errors import InvalidInput

PERSON, OTHER = code("9900400001"), code("9900400002")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    w.move_in(PERSON, "甲斐　一郎", "1970-04-01", "male")
    w.move_in(OTHER, "甲斐　二郎", "1971-04-01", "male")
    return w


def _move_out(moved: date, notified: date, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "move_out",
        "resident": PERSON,
        "effective": moved.isoformat(),
        "notified": notified.isoformat(),
        "destination": OSAKA,
    } | extra


def test_a_move_out_notified_more_than_14_days_late_is_written_ex_officio(world: World) -> None:
    changes = world.apply(_move_out(date(2026, 11, 10), DAY))
    facts = changes[0].changed["ex_officio"]
    assert facts["basis"].startswith("届出期間経過")
    assert facts["late_notification_on"] == "2026-12-01" and facts["recorded_on"] == "2026-12-01"
    text = pdf_text(issue(world, PERSON, type="johyo", history=True).pdf)
    assert (
        "転出（職権記載）令和8年11月10日転出先大阪府大阪市北区梅田一丁目1番1号"
        "職権記載令和8年12月1日（届出期間経過（転出後14日を過ぎた転出届））"
        "届出令和8年12月1日（期間経過）"
    ) in text


def test_fourteen_days_late_is_still_a_notification_fifteen_is_not(world: World) -> None:
    on_time = world.apply(_move_out(date(2026, 11, 17), DAY))  # the 14th day
    late = world.apply(_move_out(date(2026, 11, 16), DAY) | {"resident": OTHER})
    assert "ex_officio" not in on_time[0].changed and "ex_officio" in late[0].changed
    text = pdf_text(issue(world, PERSON, type="johyo", history=True).pdf)
    assert "職権記載" not in text and "転出令和8年11月17日届出令和8年12月1日" in text
    text = pdf_text(issue(world, OTHER, type="johyo", history=True).pdf)
    assert "転出（職権記載）令和8年11月16日" in text


def test_the_clerk_writes_a_move_within_ex_officio_with_request_and_notice(world: World) -> None:
    facts = {"basis": "実態調査", "requested_on": "2026-11-20", "notice_on": DAY.isoformat()}
    move = {
        "kind": "move_within",
        "resident": PERSON,
        "effective": "2026-11-25",
        "address": {"town": world.town, "block": "9番地"},
        "ex_officio": facts,
    }
    world.apply(move)
    world.apply(
        {
            "kind": "former_surname",
            "resident": PERSON,
            "effective": DAY.isoformat(),
            "former_surname": "山梨",
        }
    )
    assert world.person(PERSON).ex_officio is None  # a fact of the change, not of the record
    shown = show_resident(uow=world.uow(), resident_code=PERSON, as_of=None)
    written = [h["ex_officio"] for h in shown["history"]]
    assert written[-2] is not None and written[-2]["requested_on"] == "2026-11-20"
    assert written[-1] is None
    text = pdf_text(issue(world, PERSON, history=True).pdf)
    assert ("転居（職権記載）令和8年11月25日従前の住所") in text
    assert (
        "職権記載令和8年12月1日（実態調査）申出令和8年11月20日職権記載等通知令和8年12月1日" in text
    )


def test_ex_officio_facts_out_of_order_are_refused(world: World) -> None:
    early = {"basis": "実態調査", "notice_on": "2026-11-05"}
    with pytest.raises(InvalidInput, match="notice follows"):
        world.apply(_move_out(date(2026, 11, 10), date(2026, 11, 10), ex_officio=early))
    future = {"basis": "実態調査", "requested_on": "2026-12-02"}
    with pytest.raises(InvalidInput, match="requested_on"):
        world.apply(_move_out(date(2026, 11, 10), date(2026, 11, 10), ex_officio=future))
    with pytest.raises(InvalidInput, match="no planned date"):
        world.apply(_move_out(date(2026, 12, 20), DAY, ex_officio={"basis": "実態調査"}))
    assert world.person(PERSON).is_resident
