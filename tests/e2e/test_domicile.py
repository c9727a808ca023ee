"""本籍地利用登録 end to end: a Fukaya resident domiciled in Hanamaki gets a 戸籍 from Hanamaki.

Real processes on 127.0.0.1 over mutual TLS: jpki, both cities, the center.
The person registers at the kiosk, Hanamaki's staff approve, the store then
prints Hanamaki's 戸籍; a renewed certificate finds no registration.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
from conftest_e2e import kofu_cli as _kofu
from playwright.sync_api import Page, expect, sync_playwright
from test_kiosk_page import ARGS, CHROMIUM

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.seeding import domicile_elsewhere, seed_city
from kofu.core.db import make_engine, migrate
from services import running

RESIDENCE, DOMICILE = "112186", "032051"
NOW = "2026-11-24T12:00:00+09:00"  # a Tuesday noon, inside the family-register window
TODAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("home")
    engines = {}
    for code, seed in ((RESIDENCE, 21), (DOMICILE, 22)):
        engines[code] = make_engine(f"sqlite:///{home / f'city_{code}.sqlite'}")
        migrate(engines[code], "city")
        seed_city(engine=engines[code], code=code, residents=120, seed=seed, today=TODAY)
    person, register = domicile_elsewhere(
        residence=CityUnitOfWork(engines[RESIDENCE], today=TODAY),
        domicile=CityUnitOfWork(engines[DOMICILE], today=TODAY),
        today=TODAY,
    )
    for engine in engines.values():
        engine.dispose()
    with ExitStack() as stack:
        jpki = stack.enter_context(running(["serve", "jpki"], home, NOW))
        urls = {
            code: stack.enter_context(
                running(["serve", "city", "--city", code, "--mtls"], home, NOW)
            )["url"]
            for code in (RESIDENCE, DOMICILE)
        }
        links = [arg for code, url in urls.items() for arg in ("--city", f"{code}={url}")]
        center = stack.enter_context(
            running(["serve", "center", "--jpki", jpki["private"], *links], home, NOW)
        )
        card = home / "cards" / "domiciled.json"
        card.parent.mkdir()
        issued = _kofu(
            home,
            *("card", "issue", "--city", RESIDENCE, "--resident", person.resident_code),
            *("--pin", "1234", "--out", str(card)),
            KOFU_JPKI_URL=jpki["private"],
        )
        assert issued.returncode == 0, issued.stderr
        kiosk = stack.enter_context(
            running(["serve", "kiosk", "--center", center["url"]], home, NOW)
        )
        yield {
            "kiosk": kiosk["url"],
            "home": str(home),
            "center": center["url"],
            "jpki": jpki["private"],
            "card": str(card),
            "name": person.name,
            "domicile": register.domicile,
        }


def _kiosk(world: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return _kofu(
        Path(world["home"]),
        *("kiosk", "--card", world["card"], "--pin", "1234", "--json"),
        *args,
        KOFU_CENTER_URL=world["center"],
    )


def _koseki(world: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    return _kiosk(
        world,
        *("--city", "domicile", "--domicile-city", DOMICILE),
        *("--type", "koseki-zenbu", "--out", str(out)),
    )


def _register(world: dict[str, str], head: str) -> subprocess.CompletedProcess[str]:
    return _kiosk(
        world, "--domicile-city", DOMICILE, "--register", world["domicile"], "--head", head
    )


def _renew(world: dict[str, str]) -> None:
    """A renewed certificate: whatever was registered before no longer counts."""
    renewed = _kofu(
        Path(world["home"]),
        *("card", "renew", "--city", RESIDENCE, "--card", world["card"], "--pin", "1234"),
        "--force",
        KOFU_JPKI_URL=world["jpki"],
    )
    assert renewed.returncode == 0, renewed.stderr


def _approve_pending(world: dict[str, str]) -> str:
    home = Path(world["home"])
    listed = _kofu(home, "domicile", "list", "--city", DOMICILE, "--state", "pending", "--json")
    (pending,) = [json.loads(x)["registration_id"] for x in listed.stdout.splitlines()]
    approved = _kofu(home, "domicile", "approve", "--city", DOMICILE, "--id", pending)
    assert approved.returncode == 0, approved.stderr
    return str(pending)


def test_register_approve_print_and_register_again_after_renewal(
    world: dict[str, str], tmp_path: Path
) -> None:
    home = Path(world["home"])
    _renew(world)
    before = _koseki(world, tmp_path / "none.pdf")
    assert before.returncode != 0 and "本籍地利用登録" in json.loads(before.stdout)["message_ja"]
    wrong = _register(world, "山田　太郎")
    assert wrong.returncode != 0 and json.loads(wrong.stdout)["reason"] == "domicile_not_found"
    made = _register(world, world["name"].replace("\u3000", " "))  # typed with a plain space
    assert made.returncode == 0, made.stderr
    registration = json.loads(made.stdout)
    assert registration["state"] == "pending"
    pending = _koseki(world, tmp_path / "pending.pdf")
    assert json.loads(pending.stdout)["reason"] == "domicile_pending"
    assert _approve_pending(world) == registration["registration_id"]
    out = tmp_path / "koseki.pdf"
    printed = _koseki(world, out)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout)["city"] == DOMICILE
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "全部事項証明" in text and world["domicile"] in text
    family, given = world["name"].split("\u3000")
    assert family in text and given in text  # 筆頭者 氏 in the header, 【名】 in the entry
    verified = _kofu(home, "verify", str(out), "--json")
    assert verified.returncode == 0, verified.stderr
    residence_doc = _kiosk(
        world,
        *("--city", "domicile", "--domicile-city", DOMICILE),
        *("--type", "juminhyo", "--out", str(tmp_path / "j.pdf")),
    )
    assert json.loads(residence_doc.stdout)["reason"] == "not_from_domicile"
    _renew(world)
    after = _koseki(world, tmp_path / "after.pdf")
    assert json.loads(after.stdout)["reason"] == "domicile_not_registered"


def test_the_kiosk_page_registers_and_then_prints_from_the_domicile_city(
    world: dict[str, str],
) -> None:
    _renew(world)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_context().new_page()
            _to_choice(page, world)
            page.click("#register")
            page.fill("#honseki", world["domicile"])
            page.fill("#hittosha", world["name"])
            page.click("#apply")
            assert "審査" in page.inner_text("#applied")
            assert page.inner_text("#registration").strip()
            _approve_pending(world)
            _to_choice(page, world)
            expect(page.locator("#type-koseki-kojin")).to_have_count(1)  # the type screen
            assert page.locator("#type-juminhyo").count() == 0  # the residence city's documents
            page.click("#type-koseki-kojin")
            page.click("#copies-1")
            assert page.locator("#fee").get_attribute("data-yen") == "350"  # the domicile's fees
            page.click("#pay")
            assert page.inner_text("#heading") == "印刷が終わりました"
        finally:
            browser.close()


def _to_choice(page: Page, world: dict[str, str]) -> None:
    """Start, the domicile city's route, the notice, the one card, the PIN: the type screen."""
    page.goto(world["kiosk"])
    page.click("#services")
    page.click("#domicile-city")
    page.click(f"#city-{DOMICILE}")
    page.click("#accept")
    page.click("#card-1")
    page.fill("#pin", "1234")
    page.click("#ok")
