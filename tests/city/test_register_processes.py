"""Processes the standard asks for beyond the first points (jyuki-stnd 4.1.1.2, 5.7, 10.7).

A former resident moving back keeps the 住民票コード and 個人番号 of the
除票 (再転入); 「公用」 is printed on request; a preview (見本) uses no number
and logs nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from register_world import DAY, World, code, issue, pdf_text
from sqlalchemy import Engine, func, select

from kofu.city.adapters import tables
from kofu.city.domain.certificates import IssueRequest
from kofu.city.services.issuance import city_deputy, issue_certificates, preview_certificate
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput

TRAVELLER, OTHER = code("9900100001"), code("9900100002")


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def test_a_former_resident_moving_back_keeps_the_numbers(world: World) -> None:
    first = world.move_in(TRAVELLER, "甲斐　旅人", "1980-01-01", "male")
    world.apply(
        {
            "kind": "move_out",
            "resident": TRAVELLER,
            "effective": "2026-11-10",
            "destination": {"prefecture": "大阪府", "city": "大阪市北区"},
        },
        on=date(2026, 11, 10),
    )
    back = {
        "kind": "move_in",
        "effective": DAY.isoformat(),
        "individual_number": first.individual_number,
        "name": "甲斐　旅人",
        "kana": "カイ　タビト",
        "birth_date": "1980-01-01",
        "sex": "male",
        "address": {"town": world.town, "block": "9番地"},
        "previous_address": {"prefecture": "大阪府", "city": "大阪市北区"},
        "domicile": "東京都千代田区千代田1番",
    }
    world.apply(back)
    again = world.person(TRAVELLER)
    assert again.is_resident and again.individual_number == first.individual_number
    assert again.became_resident_on == DAY and again.removed_on is None
    with world.uow() as uow:
        kinds = [v.kind for v in uow.registers.history(TRAVELLER)]
    assert kinds == ["move_in", "move_out", "move_in"]
    with pytest.raises(Conflict, match="already in use"):
        world.apply(back | {"resident": TRAVELLER})  # a current resident's code


def test_official_use_is_marked_and_a_preview_numbers_nothing(world: World) -> None:
    world.move_in(OTHER, "甲斐　公子", "1980-01-01", "female")
    marked = issue(world, OTHER, official=True)
    text = pdf_text(marked.pdf)
    assert text.startswith("住民票の写し公用") or "公用" in text[:20]
    with pytest.raises(InvalidInput, match="公用"):
        IssueRequest.parse(type="inkan", resident_code=OTHER, official=True)

    def logged() -> int:
        with world.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tables.issuance_log)).scalar())

    before = logged()
    request = IssueRequest.parse(type="juminhyo", resident_code=OTHER)
    clock = FixedClock(datetime.combine(DAY, time(10), JST))
    shown = preview_certificate(uow=world.uow(), request=request, clock=clock)
    assert shown.issue_number == 0 and "見本" in pdf_text(shown.pdf)
    assert logged() == before
    assert issue(world, OTHER).issue_number == marked.issue_number + 1  # no number was spent


def test_the_deputy_certifies_within_the_period_only(world: World, tmp_path: Path) -> None:
    """職務代理者 (1.3.9, 5.6): named in the city's file with a period, switched by itself."""
    cities = tmp_path / "cities"
    cities.mkdir()
    (cities / "112186.toml").write_text(
        '[certifier]\ndeputy_title = "副市長"\ndeputy_name = "田中　一郎"\n'
        "deputy_from = 2026-12-01\ndeputy_until = 2026-12-31\n",
        encoding="utf-8",
    )
    deputy = city_deputy(tmp_path, "112186")
    assert deputy is not None and deputy.acting_on(DAY)
    world.move_in(OTHER, "甲斐　公子", "1980-01-01", "female")
    request = IssueRequest.parse(type="juminhyo", resident_code=OTHER)
    for day, acting in ((DAY, True), (date(2027, 1, 4), False)):
        clock = FixedClock(datetime.combine(day, time(10), JST))
        [issued] = issue_certificates(
            uow=world.uow(day), request=request, clock=clock, deputy=deputy
        )
        text = pdf_text(issued.pdf)
        assert ("深谷市長職務代理者副市長田中一郎" in text) is acting
        assert ("深谷市長鈴木健二" in text) is not acting
