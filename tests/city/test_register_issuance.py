"""発行番号 and 交付履歴 (jyuki-stnd 5.5, 1.3.8): a number per copy on every page, and the log.

Each copy has its own number, printed on every page with the issue date,
city, terminal, printer and page m/n; the log keeps each copy with place,
terminal and staff id, and a copy destroyed in error is marked disposed.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, time
from pathlib import Path

import numpy
import pytest
from PIL import Image
from register_world import DAY, World, code, family, pdf_text
from sqlalchemy import Engine

from kofu.city.domain.certificates import IssueRequest, Station
from kofu.city.services.issuance import issue_certificates
from kofu.city.services.queries import show_resident
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, InvalidInput, NotFound

HEAD = code("9900030001")
MEMBERS = [code(f"990003{n:04d}") for n in range(2, 8)]
STATION = Station(place="花園支所", terminal="花園2", printer="プリンタ003", staff_id="k-0042")


@pytest.fixture
def world(seeded_engine: Engine) -> World:
    return World(seeded_engine)


def _issue(world: World, copies: int) -> list[tuple[int, bytes, int, str]]:
    family(
        world,
        (HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主"),
        *((c, f"甲斐　子{n}", f"199{n}-01-01", "male", "子") for n, c in enumerate(MEMBERS)),
    )
    request = IssueRequest.parse(type="juminhyo", resident_code=HEAD, household="all")
    clock = FixedClock(datetime.combine(DAY, time(10), JST))
    issued = issue_certificates(
        uow=world.uow(), request=request, clock=clock, station=STATION, copies=copies
    )
    return [(i.issue_number, i.pdf, i.pages, i.issue_label) for i in issued]


def test_each_copy_has_its_own_number_on_every_page(world: World) -> None:
    copies = _issue(world, 3)
    numbers = [n for n, *_ in copies]
    assert len(set(numbers)) == 3 and numbers == sorted(numbers)
    for number, pdf, pages, label in copies:
        assert label == f"20261201 深谷市 花園2 プリンタ003 {number:07d}"
        assert pages == 2  # seven members: four and three, not 3 + 1 + 2 on three sheets
        for page in range(1, pages + 1):
            text = pdf_text(pdf, page)
            assert f"発行番号20261201深谷市花園2プリンタ003{number:07d}{page}/{pages}" in text
            others = [n for n in numbers if n != number]
            assert not any(f"{n:07d}" in text for n in others)


def test_the_log_keeps_place_terminal_staff_copies_and_disposal(world: World) -> None:
    copies = _issue(world, 2)
    shown = show_resident(uow=world.uow(), resident_code=HEAD, as_of=None)["issuances"]
    assert [e["issue_number"] for e in shown] == [n for n, *_ in copies]
    for copy_no, entry in enumerate(shown, start=1):
        assert (entry["place"], entry["terminal"], entry["staff_id"]) == (
            "花園支所",
            "花園2",
            "k-0042",
        )
        assert (entry["detail"]["copy"], entry["detail"]["copies"]) == (copy_no, 2)
        assert entry["disposed_on"] is None
    spoiled = copies[1][0]
    event = {
        "kind": "certificate_disposal",
        "resident": HEAD,
        "effective": DAY.isoformat(),
        "issue_number": spoiled,
        "reason": "印刷不良",
    }
    with pytest.raises(NotFound):
        world.apply(event | {"resident": MEMBERS[0]})  # not issued for this person
    world.apply(event)
    with pytest.raises(Conflict, match="disposed"):
        world.apply(event)
    shown = show_resident(uow=world.uow(), resident_code=HEAD, as_of=None)["issuances"]
    assert [(e["disposed_on"], e["disposal_reason"]) for e in shown] == [
        (None, None),
        (DAY.isoformat(), "印刷不良"),
    ]


def test_copies_and_station_are_bounded(world: World) -> None:
    with pytest.raises(InvalidInput, match="copies"):
        _issue(world, 0)
    with pytest.raises(InvalidInput, match="terminal"):
        Station(terminal="端\x1b末")


def test_the_mayors_seal_prints_black(world: World, tmp_path: Path) -> None:
    """電子公印 is black (jyuki-stnd 5.6): no red on a 住民票 page, dark ink where the seal is."""
    _, pdf, pages, _ = _issue(world, 1)[0]
    source = tmp_path / "jumin.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "40",
            "-f",
            str(pages),
            "-l",
            str(pages),
            source,
            tmp_path / "p",
        ],
        check=True,
        timeout=60,
    )
    [png] = tmp_path.glob("p*.png")
    with Image.open(png) as page:
        rgb = numpy.asarray(page.convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    red = int(((r > 150) & (g < 90) & (b < 90)).sum())
    assert red == 0, f"{red} red pixels on the page"
    height, width = r.shape
    seal = rgb[int(height * 0.80) : int(height * 0.93), int(width * 0.78) : int(width * 0.93)]
    assert int((seal.max(axis=2) < 80).sum()) > 20, "no dark seal where the seal is"
