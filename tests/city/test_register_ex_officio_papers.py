"""A move-out written ex officio is never certified as notified (準ずる証明書 instead)."""

from __future__ import annotations

from datetime import date

import pytest
from register_world import World, code, family, issue, pdf_text
from sqlalchemy import Engine

from kofu.core.errors import Refused

HEAD, SON = code("9900800001"), code("9900800003")
OSAKA = {"prefecture": "大阪府", "city": "大阪市北区", "town": "梅田一丁目", "block": "1番1号"}


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    w = World(seeded_engine)
    family(
        w,
        (HEAD, "甲斐　一郎", "1970-04-01", "male", "世帯主"),
        (SON, "甲斐　次郎", "2000-06-03", "male", "子"),
    )
    return w


def test_a_move_out_written_ex_officio_is_not_certified_as_notified(world: World) -> None:
    """No 転出届 was made: a 転出証明書 saying 「転出の届出があった」 must not be issued."""
    moved = date(2026, 11, 25)
    world.apply(
        {
            "kind": "move_out",
            "resident": SON,
            "effective": moved.isoformat(),
            "notified": moved.isoformat(),
            "destination": OSAKA,
            "ex_officio": {"basis": "実態調査"},
        }
    )
    with pytest.raises(Refused) as refused:
        issue(world, SON, type="tenshutsu")
    assert refused.value.reason == "late_move_out"
    text = pdf_text(issue(world, SON, type="tenshutsu", in_lieu=True).pdf)
    assert "転出の届出があったことを証明する" not in text, text
