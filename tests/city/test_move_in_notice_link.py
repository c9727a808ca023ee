"""An ordinary move's 転入通知 between two cities over mutual TLS (jyuki-stnd 4.1.3.1.1).

The old city (深谷市) serves its city-to-city doors in this process on a real
socket; the new city (花巻市) records a ``move_in`` naming ``from_city``,
which queues the 転入通知 with it, and sends it over its own LGWAN
certificate.  The old city confirms the move-out (予定→確定), once; any other
caller is refused and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from register_world import DAY, World, code
from sqlalchemy import Engine

from kofu.city.adapters.citylink import CityLink, publish_address
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.api.app import create_app
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services.events import apply_events
from kofu.city.services.seeding import seed_city
from kofu.city.services.special_move_in import deliver_notices
from kofu.contracts.citylink import OrdinaryMoveInNotice
from kofu.core.clock import JST, FixedClock
from kofu.core.network import client_context, network_identity
from kofu.core.settings import Settings
from services import in_thread
from stores import fresh_store

FUKAYA, HANAMAKI = "112186", "032051"
MOVER = code("9900400001")
PLANNED = date(2026, 12, 20)
ARRIVED = date(2026, 12, 3)
CLOCK = FixedClock(datetime.combine(date(2026, 12, 5), time(10), JST))


@dataclass
class Cities:
    home: Path
    old: World
    new: Engine
    url: str
    link: CityLink

    def post(self, caller: str, body: dict[str, Any]) -> httpx.Response:
        who = client_context(network_identity(self.home, caller, "lgwan"))
        with httpx.Client(verify=who, timeout=30) as client:
            return client.post(f"{self.url}/citylink/move-in-notices", json=body)

    def versions(self) -> int:
        with self.old.uow(CLOCK.today()) as uow:
            return len(uow.registers.history(MOVER))


@pytest.fixture
def cities(seeded_engine: Engine, tmp_path: Path) -> Iterator[Cities]:
    old = World(seeded_engine)
    old.move_in(MOVER, "甲斐　旅人", "1980-01-01", "male")
    old.apply(
        {
            "kind": "move_out",
            "resident": MOVER,
            "effective": PLANNED.isoformat(),
            "notified": DAY.isoformat(),
            "destination": {"prefecture": "岩手県", "city": "花巻市"},
        }
    )
    backend = "postgresql" if seeded_engine.dialect.name == "postgresql" else "sqlite"
    with fresh_store(backend, tmp_path, f"city_{HANAMAKI}") as new:
        seed_city(engine=new, code=HANAMAKI, residents=20, seed=3, today=DAY)
        app = create_app(seeded_engine, FUKAYA, CLOCK, StoreRules())
        identity = network_identity(tmp_path, f"city-{FUKAYA}", "lgwan")
        with in_thread(app, identity) as url:
            publish_address(tmp_path, FUKAYA, url, None)
            settings = Settings(home=tmp_path, database_url=None, schema_prefix="")
            with CityLink(settings, HANAMAKI) as link:
                yield Cities(tmp_path, old, new, url, link)


def _move_in(cities: Cities) -> None:
    with CityUnitOfWork(cities.new, today=CLOCK.today()) as uow:
        town = uow.registers.residents(limit=1)[0].address.town
    arrival = {
        "kind": "move_in",
        "resident": MOVER,
        "effective": ARRIVED.isoformat(),
        "notified": CLOCK.today().isoformat(),
        "name": "甲斐　旅人",
        "kana": "カイ　タビト",
        "birth_date": "1980-01-01",
        "sex": "male",
        "address": {"town": town, "block": "5番地"},
        "previous_address": {"prefecture": "埼玉県", "city": "深谷市"},
        "domicile": "東京都千代田区千代田1番",
        "from_city": FUKAYA,
    }
    apply_events(uow=CityUnitOfWork(cities.new, today=CLOCK.today()), events=[arrival], clock=CLOCK)


def _owed(cities: Cities) -> list[dict[str, Any]]:
    with CityUnitOfWork(cities.new, today=CLOCK.today()) as uow:
        return [m.payload for m in uow.outbox.pending(f"city-{FUKAYA}")]


def test_the_new_city_s_notice_confirms_the_move_out_once(cities: Cities) -> None:
    _move_in(cities)
    [owed] = _owed(cities)
    assert owed["resident"] == MOVER and owed["moved_on"] == ARRIVED.isoformat()
    sent = deliver_notices(uow=CityUnitOfWork(cities.new), network=cities.link, clock=CLOCK)
    assert sent == {"sent": 1, "failed": 0} and _owed(cities) == []
    with cities.old.uow(CLOCK.today()) as uow:
        record = uow.registers.resident(MOVER)
    assert record is not None and not record.is_resident  # a 除票 before the planned day
    done = record.confirmed_move_out
    assert done is not None and done.moved_on == ARRIVED and done.from_city == HANAMAKI
    assert done.destination.city == "花巻市" and done.notice_on == CLOCK.today()
    assert record.removed_on == PLANNED  # the planned 異動日 is kept
    versions = cities.versions()
    again = cities.link.notify_ordinary_move_in(FUKAYA, OrdinaryMoveInNotice(**owed))
    assert again.first is False and again.state == "confirmed"
    assert cities.versions() == versions  # idempotent under the notice id


def test_only_the_city_moved_into_may_notify(cities: Cities) -> None:
    _move_in(cities)
    [owed] = _owed(cities)
    before = cities.versions()
    for caller, body in (
        ("city-131016", owed),  # another city in Hanamaki's name
        ("center", owed),
        ("city-131016", owed | {"to_city": "131016"}),  # its own name, Hanamaki's address
    ):
        answer = cities.post(caller, body)
        assert answer.status_code == 403, (caller, answer.text)
        assert answer.json()["reason"] == "caller_not_allowed"
    bad = {
        "resident": (code("9900400002"), 404),  # nobody here
        "name": ("甲斐　別人", 409),  # not this record's person
        "moved_on": ("2026-13-01", 422),
    }
    for field, (value, status) in bad.items():
        answer = cities.post(f"city-{HANAMAKI}", owed | {field: value})
        assert answer.status_code == status, (field, answer.text)
    assert cities.versions() == before
    with cities.old.uow(CLOCK.today()) as uow:
        record = uow.registers.resident(MOVER)
    assert record is not None and record.is_resident and record.confirmed_move_out is None
