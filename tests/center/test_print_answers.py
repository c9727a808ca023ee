"""What the center believes of a city's answer to a message of prints: only what it carried."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from center_world import InProcessCity, center_for, make_world, sign_in

from kofu.center.adapters import tables as ct
from kofu.contracts.store import IssueOptions, PrintRecorded, PrintsRecorded, StorePrints
from kofu.core.errors import Refused


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return make_world(tmp_path_factory.mktemp("print_answers"))


def _request(center: Any, world: dict[str, Any], request_id: str) -> None:
    center.request(
        session=sign_in(center, world),
        request_id=request_id,
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="7-0001",
        chain="seven",
    )


class LyingCity(InProcessCity):
    """A city (or a broken one) that answers 'recorded' for ids it was not told of."""

    down: ClassVar[bool] = True
    extra: ClassVar[list[str]] = []

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        if LyingCity.down:
            raise Refused("city_unavailable", "the city does not answer")
        answer = super().printed_many(city, prints)
        forged = [PrintRecorded(request_id=r, state="already") for r in LyingCity.extra]
        return answer.model_copy(update={"recorded": [*answer.recorded, *forged]})


def _told(world: dict[str, Any], request_id: str) -> bool:
    from sqlalchemy import select

    i = ct.issuances
    with world["center"].connect() as conn:
        return bool(
            conn.execute(select(i.c.city_told).where(i.c.request_id == request_id)).scalar_one()
        )


def test_an_answer_marks_told_only_the_prints_the_message_carried(
    world: dict[str, Any], tmp_path: Path
) -> None:
    center = center_for(world, LyingCity)
    for request_id in ("store-answer-000001", "store-answer-000002"):
        _request(center, world, request_id)
        center.printed(request_id)  # the city is down: both wait
    assert not _told(world, "store-answer-000001") and not _told(world, "store-answer-000002")
    LyingCity.down = False
    LyingCity.extra = ["store-answer-000002"]
    center.tell_cities(limit=1)  # a message with the first print only
    assert _told(world, "store-answer-000001")
    assert not _told(world, "store-answer-000002")  # never sent, never counted: still owed


class ForgetfulCity(InProcessCity):
    """A city restored from a backup: it no longer knows the first print's request id."""

    forgotten: ClassVar[set[str]] = set()

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        kept = [p for p in prints.prints if p.request_id not in ForgetfulCity.forgotten]
        answer = (
            super().printed_many(city, StorePrints(prints=kept))
            if kept
            else PrintsRecorded(recorded=[], refused=[])
        )
        from kofu.contracts.store import PrintRefused

        lost = [
            PrintRefused(request_id=p.request_id, reason="unknown_request")
            for p in prints.prints
            if p.request_id in ForgetfulCity.forgotten
        ]
        return answer.model_copy(update={"refused": [*answer.refused, *lost]})


def test_a_print_the_city_refuses_does_not_hold_up_the_others(world: dict[str, Any]) -> None:
    """A print the city cannot count is not sent again each turn ahead of the new ones."""
    asked: list[Any] = []
    center = center_for(world, ForgetfulCity)
    center.later = asked.append
    ForgetfulCity.forgotten = {"store-answer-000003"}
    for request_id in ("store-answer-000003", "store-answer-000004"):
        _request(center, world, request_id)
        center.printed(request_id)
    for _ in range(3):  # the sweep's turns, its window smaller than the refused backlog
        center.tell_cities(limit=1)
    assert _told(world, "store-answer-000004")
