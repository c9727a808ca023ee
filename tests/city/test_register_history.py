"""統合記載欄 (jyuki-stnd 1.1.14, 20.0.3, 5.1) and sensible pagination.

With history, every 異動 prints with its 事由, 異動日 and 届出日 (not only the
last earlier address); a move-out shows （予定） and （確定） on the 除票 and
nothing on a current record before its date; 「以下余白」 closes the list;
a household never spreads 3 + 1 + 2 over three sheets.
"""

from __future__ import annotations

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

HEAD = code("9900060001")
KIDS = [code(f"990006{n:04d}") for n in range(2, 7)]
MOVER = code("9900060009")


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _moves(world: World) -> str:
    household = family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        *((c, f"甲斐　子{n}", f"199{n}-01-01", "male", "子") for n, c in enumerate(KIDS)),
    )
    for day, block in (("2026-11-10", "2番地"), ("2026-11-20", "3番地")):
        address = {"town": world.town, "block": block}
        world.apply({"kind": "move_within", "resident": HEAD, "effective": day, "address": address})
    world.apply(
        {
            "kind": "name_change",
            "resident": HEAD,
            "effective": "2026-11-25",
            "name": "山梨　一郎",
            "kana": "ヤマナシ　イチロウ",
        }
    )
    return household


def test_every_change_prints_with_its_reason_and_dates(world: World) -> None:
    _moves(world)
    text = pdf_text(issue(world, HEAD, history=True).pdf)
    assert "転入令和8年11月1日届出令和8年11月1日転入前住所東京都千代田区千代田1番1号" in text
    assert "転居令和8年11月10日届出令和8年11月10日従前の住所" in text
    assert "転居令和8年11月20日" in text and "1番地" in text and "2番地" in text
    assert "氏名の変更令和8年11月25日旧氏名甲斐一郎" in text
    assert text.index("以下余白") > text.index("氏名の変更")
    assert "以下余白" in pdf_text(issue(world, HEAD).pdf)


def test_six_members_with_history_take_two_sheets(world: World) -> None:
    _moves(world)
    issued = issue(world, HEAD, household="all", history=True, items=["head"])
    assert issued.pages == 2
    first, second = (pdf_text(issued.pdf, n) for n in (1, 2))
    assert first.count("氏名") >= 3 and second.count("氏名") >= 2


def test_a_planned_move_out_is_left_out_until_done_then_both_lines_print(world: World) -> None:
    world.move_in(MOVER, "甲斐　旅人", "1980-01-01", "male")
    world.apply(
        {
            "kind": "move_out",
            "resident": MOVER,
            "effective": "2026-12-10",
            "notified": DAY.isoformat(),
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        }
    )
    before = pdf_text(issue(world, MOVER, history=True).pdf)
    assert "転出" not in before  # 5.1: not printed before the planned day
    world.today = LATER
    removed = pdf_text(issue(world, MOVER, "johyo", history=True).pdf)
    assert "転出（予定）令和8年12月10日届出令和8年12月1日転出先大阪府大阪市北区" in removed
    assert "転出令和8年12月10日転出先" in removed  # removed on the day; 確定 waits for the 転入通知


LATER = DAY.replace(day=11)
