"""A city's CS outbox through a prefecture's server to the national server, services in-process.

The city's real outbox and the real Juki-net services on their own stores;
only the wire is replaced by a direct call (the real HTTP is in
tests/e2e/test_juki_net.py).  Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from kofu.city.adapters.uow import CityUnitOfWork, city_units
from kofu.city.services.events import apply_events
from kofu.city.services.juki_cs import (
    CityOutbox,
    add_by_hand,
    check_consistency,
    cs_turn,
    list_outbox,
    resend,
    set_link_mode,
)
from kofu.city.services.seeding import seed_city
from kofu.contracts.juki import CodeBlock, CodeBlockRequest, HeldRecords, IdentityNotices
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine
from kofu.core.errors import Refused, SequenceGap
from kofu.core.identifiers import ResidentCode
from kofu.juki.bootstrap import juki_node
from kofu.juki.domain.network import Role
from kofu.juki.services.network import JukiNode, upstream_turn
from stores import BACKENDS, fresh_store

CITY = "032051"  # Hanamaki, Iwate (prefecture 03)
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=JST)
TODAY = NOON.date()


class Wire:
    """The next hop's real service, called directly; can be cut like a line."""

    def __init__(self, node: JukiNode, sender: str) -> None:
        self.node, self.sender, self.down = node, sender, False

    def send(self, notices: Sequence[dict[str, Any]]) -> int:
        if self.down:
            raise Refused("juki_unavailable", "the line is down")
        batch = IdentityNotices.checked({"sender": self.sender, "notices": list(notices)})
        return self.node.receive_notices(batch).applied_through

    def block(self, request_id: str, count: int) -> CodeBlock:
        if self.down:
            raise Refused("juki_unavailable", "the line is down")
        request = CodeBlockRequest(request_id=request_id, holder=self.sender, count=count)
        return self.node.issue_block(request)

    def held(self, city: str, after: str = "") -> HeldRecords:
        return self.node.held(city, after)


def _network(city: Engine, pref_store: Engine, national_store: Engine) -> dict[str, Any]:
    clock = FixedClock(NOON)
    national = juki_node(national_store, clock, Role("national"))
    pref = juki_node(pref_store, clock, Role("prefecture", "03"))
    return {
        "city": city,
        "units": city_units(city),  # the CS services' units of work on the city's store
        "pref": pref,
        "pref_store": pref_store,
        "national": national,
        "national_store": national_store,
        "to_pref": Wire(pref, f"city-{CITY}"),
        "to_national": Wire(national, "pref-03"),
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SQLite stores migrated and seeded once; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("template")
    with (
        fresh_store("sqlite", folder, f"city_{CITY}") as city,
        fresh_store("sqlite", folder, "juki_pref") as pref_store,
        fresh_store("sqlite", folder, "juki_national") as national_store,
    ):
        seed_city(engine=city, code=CITY, residents=60, seed=3, today=TODAY)
        net = _network(city, pref_store, national_store)
        upstream_turn(net["pref"], net["to_national"])  # the prefecture's first stock of codes
    return folder


@pytest.fixture
def net(template: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    engines = []
    for name in (f"city_{CITY}", "juki_pref", "juki_national"):
        shutil.copy(template / f"{name}.sqlite", tmp_path / f"{name}.sqlite")
        engines.append(make_engine(f"sqlite:///{tmp_path / f'{name}.sqlite'}"))
    try:
        yield _network(*engines)
    finally:
        for engine in engines:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def net_both(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The same on SQLite and PostgreSQL, made from scratch (for the few tests run on both)."""
    with (
        fresh_store(request.param, tmp_path, f"city_{CITY}") as city,
        fresh_store(request.param, tmp_path, "juki_pref") as pref_store,
        fresh_store(request.param, tmp_path, "juki_national") as national_store,
    ):
        seed_city(engine=city, code=CITY, residents=60, seed=3, today=TODAY)
        net = _network(city, pref_store, national_store)
        upstream_turn(net["pref"], net["to_national"])
        yield net


def _forward(net: dict[str, Any]) -> dict[str, Any]:
    return upstream_turn(net["pref"], net["to_national"])


def _birth(net: dict[str, Any]) -> str:
    with CityUnitOfWork(net["city"], today=TODAY) as uow:
        mother = uow.registers.sample_holder()
        assert mother is not None
    event = {
        "kind": "birth",
        "effective": "2026-11-20",
        "mother": mother.resident_code,
        "name": "花巻　太郎",
        "kana": "ハナマキ　タロウ",
        "sex": "male",
    }
    (change, *_) = apply_events(
        uow=CityUnitOfWork(net["city"]), events=[event], clock=FixedClock(NOON)
    )
    return str(change.resident)


def test_every_record_reaches_the_national_server_once_in_order(
    net_both: dict[str, Any],
) -> None:
    net = net_both
    first = cs_turn(net["units"], net["to_pref"], TODAY)
    assert first["queued"] >= 60 and first["sent"] == first["queued"]
    _forward(net)
    assert net["pref"].count() == net["national"].count() == 60 + 0
    again = cs_turn(net["units"], net["to_pref"], TODAY)  # nothing new: nothing sent
    assert again["sent"] == 0 and _forward(net)["sent"] == 0


def test_a_resent_batch_changes_nothing_and_a_gap_is_refused(net: dict[str, Any]) -> None:
    cs_turn(net["units"], net["to_pref"], TODAY)
    sent = CityOutbox(net["units"], TODAY).one(1)
    assert sent is not None
    replay = IdentityNotices.checked({"sender": f"city-{CITY}", "notices": [sent.notice]})
    receipt = net["pref"].receive_notices(replay)
    assert (receipt.applied, receipt.already) == (0, 1)
    last = receipt.applied_through
    ahead = sent.notice | {"seq": last + 5}
    with pytest.raises(SequenceGap) as gap:
        net["pref"].receive_notices(
            IdentityNotices.checked({"sender": f"city-{CITY}", "notices": [ahead]})
        )
    assert gap.value.expected == last + 1 and f"seq {last + 1}" in gap.value.message
    changed = sent.notice | {"effective": "2020-01-01"}  # seq 1 again, other content
    with pytest.raises(SequenceGap) as conflict:
        net["pref"].receive_notices(
            IdentityNotices.checked({"sender": f"city-{CITY}", "notices": [changed]})
        )
    assert conflict.value.reason == "sequence_conflict"
    assert net["pref"].count() == 60


def test_a_birth_takes_a_code_from_the_block_and_is_noticed(net: dict[str, Any]) -> None:
    cs_turn(net["units"], net["to_pref"], TODAY)  # first load, and a block of codes
    child = _birth(net)
    with CityUnitOfWork(net["city"]) as uow:
        block = uow.cs.blocks()[0]
    assert child == str(ResidentCode.from_base(f"{block['first']:010d}"))
    cs_turn(net["units"], net["to_pref"], TODAY)
    _forward(net)
    assert net["national"].whereabouts(child)["city"] == CITY


def test_a_failed_send_is_shown_and_order_is_kept(net: dict[str, Any]) -> None:
    net["to_pref"].down = True
    result = cs_turn(net["units"], net["to_pref"], TODAY)
    assert result["sent"] == 0
    failed = list_outbox(net["units"], "failed")["messages"]
    assert [m["seq"] for m in failed] == [1] and "line is down" in failed[0]["error"]
    net["to_pref"].down = False
    assert cs_turn(net["units"], net["to_pref"], TODAY)["sent"] >= 60
    assert list_outbox(net["units"], "failed")["messages"] == []


def test_manual_linkage_holds_notices_until_resent_in_order(net: dict[str, Any]) -> None:
    cs_turn(net["units"], net["to_pref"], TODAY)
    set_link_mode(net["units"], "manual", "CS maintenance")
    a = add_by_hand(net["units"], _any_code(net), TODAY)["seq"]
    b = add_by_hand(net["units"], _any_code(net), TODAY)["seq"]
    assert cs_turn(net["units"], net["to_pref"], TODAY)["sent"] == 0
    out_of_order = resend(net["units"], net["to_pref"], b)
    assert out_of_order["state"] == "failed" and f"seq {a}" in out_of_order["error"]
    assert resend(net["units"], net["to_pref"], a)["state"] == "sent"
    assert resend(net["units"], net["to_pref"], b)["state"] == "sent"
    assert resend(net["units"], net["to_pref"], b)["state"] == "sent"  # again: the same answer
    set_link_mode(net["units"], "auto")
    assert list_outbox(net["units"], None)["counts"]["pending"] == 0


def test_a_receiver_restored_empty_makes_the_city_send_everything_again(
    net: dict[str, Any], tmp_path: Path
) -> None:
    cs_turn(net["units"], net["to_pref"], TODAY)
    with net["pref_store"].begin() as conn:  # the prefecture's store loses everything
        for table in ("identities", "received", "cursors", "forward"):
            conn.execute(text(f"DELETE FROM {table}"))
    add_by_hand(net["units"], _any_code(net), TODAY)
    result = cs_turn(net["units"], net["to_pref"], TODAY)
    assert result["rewound"] == 1 and net["pref"].count() == 60


def test_the_check_finds_a_lost_message_and_a_hand_edit_and_repairs_them(
    net: dict[str, Any],
) -> None:
    cs_turn(net["units"], net["to_pref"], TODAY)
    _forward(net)
    servers = {"pref-03": net["to_pref"], "national": net["to_national"]}
    assert check_consistency(net["units"], servers, TODAY)["consistent"]
    lost, edited = sorted(_codes(net))[:2]
    with net["national_store"].begin() as conn:
        conn.execute(text("DELETE FROM identities WHERE resident_code = :c"), {"c": lost})
    with net["pref_store"].begin() as conn:
        conn.execute(
            text("UPDATE identities SET data = replace(data, :a, :b) WHERE resident_code = :c"),
            {"a": '"sex":"male"', "b": '"sex":"female"', "c": edited},
        )
        conn.execute(
            text("UPDATE identities SET data = replace(data, :a, :b) WHERE resident_code = :c"),
            {"a": '"sex":"female"', "b": '"sex":"male"', "c": edited},
        )
    found = check_consistency(net["units"], servers, TODAY, repair=True)
    kinds = {(d["server"], d["resident_code"], d["kind"]) for d in found["differences"]}
    assert ("national", lost, "missing") in kinds
    assert ("pref-03", edited, "differs") in kinds
    assert not found["consistent"] and len(found["repaired"]) == 2
    cs_turn(net["units"], net["to_pref"], TODAY)
    _forward(net)
    assert check_consistency(net["units"], servers, TODAY)["consistent"]


def _codes(net: dict[str, Any]) -> list[str]:
    with net["city"].connect() as conn:
        return [str(c) for c in conn.execute(text("SELECT resident_code FROM residents")).scalars()]


def _any_code(net: dict[str, Any]) -> str:
    return sorted(_codes(net))[-1]


def test_codes_are_never_given_twice_even_when_a_request_is_repeated(net: dict[str, Any]) -> None:
    pref, national = net["pref"], net["national"]
    req = CodeBlockRequest(request_id="stk-aaaaaaaa", holder="pref-03", count=1000)
    stock = national.issue_block(req)
    assert national.issue_block(req) == stock  # the same request: the same block
    pref.add_stock("stk-aaaaaaaa", stock)
    blocks = [
        pref.issue_block(
            CodeBlockRequest(request_id=f"city-req-{i}", holder=f"city-03205{i}", count=300)
        )
        for i in range(4)
    ]
    again = pref.issue_block(
        CodeBlockRequest(request_id="city-req-0", holder="city-032050", count=300)
    )
    assert again == blocks[0]
    bases = [b for blk in blocks for b in range(blk.first, blk.first + blk.count)]
    assert len(bases) == len(set(bases)) == 1200
    other = national.issue_block(
        CodeBlockRequest(request_id="stk-bbbbbbbb", holder="pref-03", count=10)
    )
    assert other.first >= stock.first + stock.count


def test_a_code_changed_is_retired_upstream(net: dict[str, Any]) -> None:
    from kofu.city.services.resident_code import change_resident_code

    cs_turn(net["units"], net["to_pref"], TODAY)
    old = _any_code(net)
    changed = change_resident_code(units=net["units"], resident=old, channel="post", today=TODAY)
    assert changed["old_code"] == old and changed["new_code"] != old
    cs_turn(net["units"], net["to_pref"], TODAY)
    _forward(net)
    with pytest.raises(Refused) as refused:
        net["national"].whereabouts(old)
    assert refused.value.reason == "resident_code_retired"
    assert net["national"].whereabouts(changed["new_code"])["city"] == CITY
    servers = {"pref-03": net["to_pref"], "national": net["to_national"]}
    assert check_consistency(net["units"], servers, TODAY)["consistent"]


def _today() -> date:
    return TODAY
