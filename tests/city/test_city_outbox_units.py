"""The city's outbox to the authority, on the in-memory city and on SQL: the same deliveries.

A revocation is sent once its day has come, a failure is kept and tried
again, and a card the authority never certified is nothing to revoke.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fakes.city import MemoryCity
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.outbox import deliver_to_jpki
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import NotFound, Refused
from stores import BACKENDS, fresh_store

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))


class StandInAuthority:
    """The authority's revocation desk: one card unknown to it, one that fails the first time."""

    def __init__(self) -> None:
        self.revoked: list[tuple[str, str]] = []
        self.fail_once = {"C-flaky"}

    def revoke_card(self, card_id: str, cause: str) -> list[str]:
        if card_id == "C-unknown":
            raise NotFound("no certificates for this card", field="card_id")
        if card_id in self.fail_once:
            self.fail_once.discard(card_id)
            raise Refused("authority_unavailable", "the authority could not answer")
        self.revoked.append((card_id, cause))
        return ["1a"]

    def issue_pair(self, **_: Any) -> Any:
        raise NotImplementedError


@pytest.fixture(params=["memory", *BACKENDS])
def city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryCity()
        return
    with fresh_store(request.param, tmp_path, "city") as engine:
        yield CityUnitOfWork(engine)


def _queue(city: Any, card_id: str, effective: date) -> None:
    with city:
        payload = {"card_id": card_id, "cause": "loss", "effective": effective.isoformat()}
        city.outbox.add(target="jpki", kind="revoke_card", payload=payload, at=NOON.now())
        city.commit()


def test_revocations_go_once_their_day_has_come_and_failures_are_tried_again(city: Any) -> None:
    today = NOON.today()
    for card in ("C-1", "C-unknown", "C-flaky"):
        _queue(city, card, today)
    _queue(city, "C-later", today + timedelta(days=3))  # a planned move-out: waits for its day
    authority = StandInAuthority()
    first = deliver_to_jpki(uow=city, authority=authority, clock=NOON)
    assert first == {"sent": 2, "failed": 1, "waiting": 1}
    again = deliver_to_jpki(uow=city, authority=authority, clock=NOON)
    assert again == {"sent": 1, "failed": 0, "waiting": 1}
    later = FixedClock(NOON.now() + timedelta(days=3))
    assert deliver_to_jpki(uow=city, authority=authority, clock=later)["sent"] == 1
    assert deliver_to_jpki(uow=city, authority=authority, clock=later) == {
        "sent": 0,
        "failed": 0,
        "waiting": 0,
    }
    assert authority.revoked == [("C-1", "loss"), ("C-flaky", "loss"), ("C-later", "loss")]


def test_a_unit_left_without_commit_sends_nothing_twice_and_loses_nothing(city: Any) -> None:
    _queue(city, "C-1", NOON.today())
    with city:
        assert [m.payload["card_id"] for m in city.outbox.pending("jpki")] == ["C-1"]
        city.outbox.delivered(city.outbox.pending("jpki")[0].message_id, NOON.now())
        # no commit: as if the process died here
    with city:
        assert len(city.outbox.pending("jpki")) == 1
