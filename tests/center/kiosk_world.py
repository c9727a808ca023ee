"""The kiosk page before an in-process center: three cards in its reader, the page in a thread.

``resident`` is the city's sample holder (every certificate), ``spare`` another
adult (for wrong PINs), ``blocked`` an adult under an issuance block (a refusal
from the city).  The center and the kiosk are real apps on loopback sockets;
the city answers in-process (center_world).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from center_world import CITY, NOON, center_for, make_world

from kofu.card.storage import save_card
from kofu.center.api.app import create_app
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.card_desk import personalise
from kofu.city.services.events import apply_events
from kofu.core.link import Link
from kofu.kiosk.web import create_kiosk_app
from services import HangingRelay, in_thread

MASTER = b"m" * 32
PIN = "1234"


def _adults(world: dict[str, Any], count: int) -> list[Any]:
    """Adults other than the sample holder, as the store rules let them use a kiosk."""
    holder = world["holder"].resident_code
    with CityUnitOfWork(world["city"], today=NOON.today()) as uow:
        people = uow.registers.residents()
    fit = [
        p
        for p in people
        if p.resident_code != holder
        and p.is_resident
        and p.planned_move_out is None
        and NOON.today().year - p.birth_date.year > 25
        and len(p.name.replace("　", "")) <= 12
    ]
    return fit[:count]


def _card_for(world: dict[str, Any], person: Any, card_id: str) -> Any:
    with CityUnitOfWork(world["city"], today=NOON.today()) as uow:
        element, record = personalise(
            authority=world["authority"],
            city=CITY,
            person=person,
            card_id=card_id,
            expires_on=date(2035, 6, 30),
            pin=PIN,
            password=None,
            today=NOON.today(),
        )
        uow.cards.save_card(record.model_copy(update={"application_id": f"A-{card_id}"}))
        uow.commit()
    return element


@contextmanager
def kiosk_world(
    home: Path, clock: list[float] | None = None, hang_on: bytes | None = None
) -> Iterator[dict[str, Any]]:
    """The world, its cards saved where the kiosk reads them, the kiosk's URL.

    ``hang_on``: the kiosk reaches the center through a relay that hangs on
    the requests holding these bytes (``relay`` in the answer).
    """
    before = os.environ.get("KOFU_HOME")
    os.environ["KOFU_HOME"] = str(home)  # the kiosk's card ledger lives here
    try:
        world = make_world(home)
        cards = home / "cards"
        cards.mkdir()
        save_card(world["card"], cards / "a-resident.json", MASTER)
        spare, blocked = _adults(world, 2)
        save_card(_card_for(world, spare, "032051-2"), cards / "b-spare.json", MASTER)
        save_card(_card_for(world, blocked, "032051-3"), cards / "c-blocked.json", MASTER)
        block = {
            "kind": "issuance_block",
            "resident": blocked.resident_code,
            "effective": "2026-11-24",
            "reason": "調査中",
        }
        apply_events(uow=CityUnitOfWork(world["city"]), events=[block], clock=NOON)
        monotonic = (lambda: clock[0]) if clock is not None else None
        with ExitStack() as stack:
            center = stack.enter_context(in_thread(create_app(center_for(world))))
            relay = stack.enter_context(HangingRelay(center, hang_on)) if hang_on else None
            link = stack.enter_context(Link())
            extra: dict[str, Any] = {"monotonic": monotonic} if monotonic else {}
            app = create_kiosk_app(
                center_url=relay.url if relay else center,
                cards=cards,
                master_key=MASTER,
                client=link,
                today=NOON.today,
                **extra,
            )
            url = stack.enter_context(in_thread(app))
            yield {"world": world, "url": url, "clock": clock, "center": center, "relay": relay}
    finally:
        if before is None:
            os.environ.pop("KOFU_HOME", None)
        else:
            os.environ["KOFU_HOME"] = before
