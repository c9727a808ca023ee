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
from kofu.core.errors import Conflict, InvalidInput, Refused

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


def test_members_who_file_first_leave_with_the_head_and_are_not_made_head(world: World) -> None:
    """The wife's own move-out goes first; on the day the son alone stays and heads (4.0.4)."""
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))
    world.today = PLANNED
    wife, son = world.person(WIFE), world.person(SON)
    assert not wife.is_resident and wife.relationship == "妻"  # not brought back as a member
    assert son.is_resident and son.relationship == "世帯主"


def test_a_member_moved_after_the_head_is_told_the_order(world: World) -> None:
    world.apply(_move_out(HEAD, PLANNED))
    with pytest.raises(Conflict, match="before the head's own"):
        world.apply(_move_out(WIFE, PLANNED))


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


# --- 転入通知の受理 (4.1.3.1.1): the former city confirms the move-out -----------------------

UMEDA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田二丁目", "block": "2番2号"}


def _notice(resident: str, on: date, moved: date, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "move_in_notice",
        "resident": resident,
        "effective": on.isoformat(),
        "moved_on": moved.isoformat(),
        "destination": UMEDA,
        "from_city": "271276",  # 大阪市北区
    } | extra


def test_a_notice_before_the_planned_day_confirms_and_removes_now(world: World) -> None:
    world.apply(_move_out(SON, PLANNED))
    notice_day = date(2026, 12, 5)
    world.today = notice_day
    [change] = world.apply(_notice(SON, notice_day, date(2026, 12, 3)))
    assert change.kind == "move_out_confirmed"
    son = world.person(SON)
    assert not son.is_resident and son.removed_on == PLANNED  # the 異動日 stays as notified
    assert son.planned_move_out is not None and son.confirmed_move_out is not None
    assert son.move_out_destination is not None and son.move_out_destination.town == "梅田一丁目"
    assert son.confirmed_move_out.destination.town == "梅田二丁目"
    with pytest.raises(Refused):
        issue(world, SON)  # a 除票 now: no 住民票の写し
    text = pdf_text(issue(world, SON, "johyo", history=True).pdf)
    assert "転出（予定）令和8年12月20日届出令和8年12月1日転出先大阪府大阪市北区梅田一丁目" in text
    confirmed = "転出（確定）令和8年12月3日転出先大阪府大阪市北区梅田二丁目2番2号"
    assert f"{confirmed}転入通知令和8年12月5日" in text
    assert "転出年月日（確定）令和8年12月3日" in text and "転入通知日令和8年12月5日" in text
    world.today = date(2026, 12, 25)  # the planned day has passed: the confirmed record stays
    later = world.person(SON)
    assert later.confirmed_move_out == son.confirmed_move_out
    assert pdf_text(issue(world, SON, "johyo", history=True).pdf).count("転出（確定）") == 1


def test_a_notice_after_the_move_confirms_once_and_a_resend_changes_nothing(world: World) -> None:
    world.apply(_move_out(SON, date(2026, 11, 25)))
    first = world.apply(_notice(SON, DAY, date(2026, 11, 26), notice_id="mi-0000000001"))
    assert [c.kind for c in first] == ["move_out_confirmed"]
    with world.uow() as uow:
        versions = len(uow.registers.history(SON))
    assert world.apply(_notice(SON, DAY, date(2026, 11, 26), notice_id="mi-0000000001")) == []
    with world.uow() as uow:
        assert len(uow.registers.history(SON)) == versions
    corrected = _notice(SON, DAY, date(2026, 11, 27), notice_id="mi-0000000002")
    world.apply(corrected)  # a notice sent again with a correction is taken (4.1.3.1.2)
    done = world.person(SON).confirmed_move_out
    assert done is not None and done.moved_on == date(2026, 11, 27)


def test_a_notice_without_a_move_out_or_out_of_order_is_refused(world: World) -> None:
    with pytest.raises(Conflict, match="no move-out"):
        world.apply(_notice(HEAD, DAY, DAY))
    world.apply(_move_out(SON, PLANNED))
    with pytest.raises(InvalidInput, match="moved_on"):
        world.apply(_notice(SON, DAY, date(2026, 12, 2)))
    here = {"prefecture": "埼玉県", "city": "深谷市", "town": world.town, "block": "1番地"}
    with pytest.raises(InvalidInput, match="another city"):
        world.apply(_notice(SON, DAY, DAY, destination=here))
    with pytest.raises(InvalidInput, match="from_city"):
        world.apply(_notice(SON, DAY, DAY, from_city="27127"))
    assert world.person(SON).confirmed_move_out is None and world.person(SON).is_resident


def test_a_move_in_from_a_named_city_keeps_the_code(world: World) -> None:
    arrival = {
        "kind": "move_in",
        "effective": DAY.isoformat(),
        "name": "浪速　太郎",
        "kana": "ナニワ　タロウ",
        "birth_date": "1990-01-01",
        "sex": "male",
        "address": {"town": world.town, "block": "3番地"},
        "previous_address": UMEDA,
        "domicile": "大阪府大阪市北区梅田1番",
        "from_city": "271276",
    }
    with pytest.raises(InvalidInput, match="住民票コード"):
        world.apply(arrival)
    with pytest.raises(InvalidInput, match="another city"):
        world.apply(arrival | {"resident": code("9900300009"), "from_city": "112186"})


def test_asked_again_it_is_a_reissue_of_the_first_state(world: World) -> None:
    """再交付 (4.1.3.0.3): marked, and printed as it stood when first issued."""
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))
    first = issue(world, HEAD, type="tenshutsu", household="all")
    assert "再交付" not in pdf_text(first.pdf)
    world.today = date(2026, 12, 21)  # both are 除票 now, and the first copy was lost
    again = pdf_text(issue(world, HEAD, type="tenshutsu", household="all").pdf)
    assert again.startswith("転出証明書再交付") or "再交付" in again[:20]
    assert "甲斐一郎" in again and "甲斐花子" in again and "甲斐次郎" not in again
    assert "転出予定年月日令和8年12月20日" in again


def test_a_household_johyo_after_the_day_lists_everyone_who_left_together(world: World) -> None:
    """Removals stored ahead count on their day, before anyone has read the records again."""
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))
    world.today = date(2026, 12, 21)
    text = pdf_text(issue(world, HEAD, "johyo", household="all").pdf)
    assert "甲斐一郎（" in text and "甲斐花子（" in text and "甲斐次郎（" not in text


def test_one_confirmed_early_still_shares_the_certificate_with_who_moves_later(
    world: World,
) -> None:
    """The wife's 転入通知 came first; the head's move is still planned: one certificate."""
    world.apply(_move_out(WIFE, PLANNED), _move_out(HEAD, PLANNED))
    world.today = date(2026, 12, 5)
    world.apply(_notice(WIFE, world.today, date(2026, 12, 3)))
    issued = issue(world, WIFE, type="tenshutsu", household="all")
    assert set(issued.subjects) == {HEAD, WIFE}


def test_a_foreign_resident_s_certificate_carries_the_stay_and_no_domicile(world: World) -> None:
    student = code("9900300005")
    stay = {
        "nationality": "ベトナム",
        "category": "中長期在留者",
        "residence_status": "留学",
        "period_of_stay": "2年",
        "period_of_stay_until": "2027-03-31",
        "residence_card_number": "AB12345678CD",
        "alias": "阮　安",
    }
    world.move_in(student, "阮　文安", "2001-05-06", "male", foreign=stay, domicile=None)
    world.apply(_move_out(student, PLANNED))
    text = pdf_text(issue(world, student, type="tenshutsu").pdf)
    assert "2001年5月6日生" in text and "国籍・地域ベトナム" in text and "通称阮安" in text
    assert "法第30条の45の区分中長期在留者" in text and "在留資格留学" in text
    assert "在留期間の満了の日2027年3月31日" in text and "在留カードの番号AB12345678CD" in text
    assert "本籍" not in text and "転出予定年月日令和8年12月20日" in text
