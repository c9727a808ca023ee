"""The activity log through the city's services, on the in-memory city and on SQL alike.

``record_activity`` appends in the caller's unit of work: kept only with its
commit, and the same work (the same ``ref``) counted once; the dashboard
reads the daily sums back month by month.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from fakes.city import MemoryCity
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.city import CityProfile
from kofu.city.services.activity import record_activity
from kofu.city.services.dashboard import dashboard
from kofu.city.services.issuance import record_refusal
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Refused
from stores import BACKENDS, fresh_store

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))
FUKAYA = CityProfile(
    code="112186", prefecture="埼玉県", name="深谷市", name_kana="フカヤシ", mayor_name="小島進"
)


@pytest.fixture(params=["memory", *BACKENDS])
def city(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryCity(FUKAYA)
        return
    with fresh_store(request.param, tmp_path, "city") as engine:
        uow = CityUnitOfWork(engine)
        with uow:
            uow.registers.save_profile(FUKAYA)
            uow.commit()
        yield uow


def _issue(city: Any, ref: str, at: datetime, *, channel: str, commit: bool = True) -> Any:
    with city:
        number = record_activity(
            city, ActivityKind.CERTIFICATE_ISSUED, at, ref=ref, channel=channel, copies=1
        )
        if commit:
            city.commit()
    return number


def test_the_log_keeps_work_once_and_only_with_its_commit(city: Any) -> None:
    assert _issue(city, "issue:1", NOON.now(), channel="store") is not None
    assert _issue(city, "issue:1", NOON.now(), channel="store") is None  # the same work again
    assert _issue(city, "issue:2", NOON.now(), channel="counter", commit=False) is not None
    assert _issue(city, "issue:3", NOON.now(), channel="counter") is not None
    with city:
        record_activity(city, ActivityKind.CERTIFICATE_REFUSED, NOON.now(), cause="dv_block")
        record_activity(city, ActivityKind.CARD_ISSUED, NOON.now(), ref="card:C-1", role="new")
        city.commit()

    view = dashboard(uow=city, clock=NOON)

    november = next(m for m in view["months"] if m["month"] == "2026-11")
    assert (november["store"], november["all"], november["cards"]) == (1, 2, 1)
    assert november["store_share"] == "50.0"  # issue:2 rolled back, issue:1 counted once
    assert view["refusals"] == {"dv_block": {"2026-11": 1}}
    assert view["city"] == "112186"


def test_counter_refusals_are_shown_by_reason_apart_from_the_stores(city: Any) -> None:
    refusal = Refused("no_seal", "this person has no registered seal")
    record_refusal(city, refusal, NOON.now())
    record_refusal(city, refusal, NOON.now(), channel="wide_area")
    record_refusal(city, Refused("domicile_elsewhere", "elsewhere"), NOON.now())
    with city:
        record_activity(
            city, ActivityKind.CERTIFICATE_REFUSED, NOON.now(), channel="store", cause="no_seal"
        )
        city.commit()

    view = dashboard(uow=city, clock=NOON)

    assert view["counter_refusals"] == {
        "no_seal": {"2026-11": 2},
        "domicile_elsewhere": {"2026-11": 1},
    }
    assert view["refusals"] == {"no_seal": {"2026-11": 1}}
