"""Certificate types and forms (jyuki-stnd 1.1.3, 5.1).

住民票記載事項証明書 and 除票記載事項証明書; the household form (世帯連記式) or
one person a sheet (個人票); a 除票 for the members who left together; each
omittable item's default set per city in its TOML file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from register_world import DAY, World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.city.adapters.config import load_certificate_defaults
from kofu.city.domain.certificates import IssueRequest, Item
from kofu.core.errors import InvalidInput

HEAD, WIFE, CHILD, STAYER = (code(f"990007{n:04d}") for n in range(1, 5))
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _three(world: World) -> str:
    return family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        (WIFE, "甲斐　花子", "1962-05-02", "female", "妻"),
        (CHILD, "甲斐　桃子", "1990-03-03", "female", "子"),
    )


def test_a_certificate_of_recorded_items_and_the_per_person_form(world: World) -> None:
    _three(world)
    kisai = issue(world, HEAD, "kisai", household="all", items=["head"])
    text = pdf_text(kisai.pdf)
    assert text.startswith("住民票記載事項証明書")
    assert "上記の事項は、住民票に記載されていることを証明する。" in text
    per_person = issue(world, HEAD, household="all", form="person")
    assert per_person.pages == 3
    for page in (1, 2, 3):
        assert pdf_text(per_person.pdf, page).count("氏名") == 1
    assert issue(world, HEAD, household="all").pages == 1  # 世帯連記式


def test_a_removed_household_has_its_own_certificate(world: World) -> None:
    household = _three(world)
    world.move_in(STAYER, "甲斐　留守", "1992-01-01", "male", "子", household)
    for person in (WIFE, CHILD, HEAD):
        world.apply(
            {
                "kind": "move_out",
                "resident": person,
                "effective": DAY.isoformat(),
                "destination": OSAKA,
            }
        )
    johyo = issue(world, HEAD, "johyo", household="all")
    text = pdf_text(johyo.pdf)
    assert all(name in text for name in ("甲斐一郎", "甲斐花子", "甲斐桃子"))
    assert "甲斐留守" not in text  # still a resident: never on the same 除票 (5.1)
    assert set(johyo.subjects) == {HEAD, WIFE, CHILD}
    extract = pdf_text(issue(world, WIFE, "johyo-kisai", household="all").pdf)
    assert "上記の事項は、住民票の除票に記載されていることを証明する。" in extract
    assert "甲斐一郎" in extract


def test_each_citys_defaults_of_omittable_items(tmp_path: Path) -> None:
    cities = tmp_path / "cities"
    cities.mkdir()
    (cities / "112186.toml").write_text(
        '[certificates]\ndefault_items = ["head", "domicile"]\n', encoding="utf-8"
    )
    defaults = load_certificate_defaults(tmp_path, "112186")
    assert defaults == {Item.HEAD, Item.DOMICILE}
    request = IssueRequest.parse(
        type="juminhyo", resident_code=HEAD, without=["domicile"], defaults=defaults
    )
    assert request.items == {Item.HEAD}
    with pytest.raises(InvalidInput, match="both"):
        IssueRequest.parse(type="juminhyo", resident_code=HEAD, items=["head"], without=["head"])
    (cities / "112186.toml").write_text(
        '[certificates]\ndefault_items = ["mood"]\n', encoding="utf-8"
    )
    with pytest.raises(InvalidInput, match="default_items"):
        load_certificate_defaults(tmp_path, "112186")
    assert load_certificate_defaults(tmp_path, "999999") == frozenset()
