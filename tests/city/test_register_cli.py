"""The register-spec points through the real command line: ``kofu event``, ``show``, ``issue``.

One module-wide session (the command costs seconds to start): a small city is
seeded under KOFU_HOME at KOFU_NOW; a household comes in and its head dies;
``show`` alerts 世帯主不在; the clerk's 世帯主変更 restates the relations; an
alert-level block and two copies follow, each with its own 発行番号.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from register_world import code
from sqlalchemy import select

from kofu.city.adapters import tables as t
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.core.db import make_engine

KOFU = Path(sys.executable).with_name("kofu")
CITY = "032051"  # 岩手県花巻市
HEAD, WIFE, FATHER, MOTHER = (code(f"990011{n:04d}") for n in range(1, 5))
SIBLINGS = {
    "domicile": "岩手県花巻市花城町1番",
    "previous_address": {"prefecture": "東京都", "city": "港区"},
}


def _kofu(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KOFU), *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=180,
        check=False,
    )


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _move_in(resident: str, name: str, birth: str, sex: str, rel: str, town: str) -> dict[str, Any]:
    return {
        "kind": "move_in",
        "resident": resident,
        "effective": "2026-11-20",
        "name": name,
        "kana": "カイ　テスト",
        "birth_date": birth,
        "sex": sex,
        "address": {"town": town, "block": "1番地"},
        "household": "new" if rel == "世帯主" else "HOUSEHOLD",
        "relationship": rel,
        "domicile_head": "甲斐　一郎",
        **SIBLINGS,
    }


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("kofu_register")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_DATABASE")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-12-01T10:00:00+09:00"}
    seeded = _kofu(env, "seed", "--city", CITY, "--residents", "30", "--seed", "3", "--json")
    assert seeded.returncode == 0, seeded.stderr
    listing = _lines(_kofu(env, "residents", "--city", CITY, "--json", "--limit", "1").stdout)
    town = re.sub(r"^岩手県花巻市", "", listing[0]["address"])
    town = re.match(r"^\D+", town).group(0)  # type: ignore[union-attr]
    head = _move_in(HEAD, "甲斐　一郎", "1960-04-01", "male", "世帯主", town)
    first = _kofu(
        env, "event", "--city", CITY, "--file", "-", stdin=json.dumps(head, ensure_ascii=False)
    )
    assert first.returncode == 0, first.stderr
    household = _lines(first.stdout)[0]["changed"]["household_id"]
    rest = [
        _move_in(WIFE, "甲斐　花子", "1962-05-02", "female", "妻", town),
        _move_in(FATHER, "甲斐　正男", "1932-06-03", "male", "父", town),
        _move_in(MOTHER, "甲斐　梅子", "明治45年7月30日", "female", "母", town),
    ]
    rest = [e | {"household": household} for e in rest]
    rest.append({"kind": "death", "resident": HEAD, "effective": "2026-12-01"})
    death = _kofu(env, "event", "--city", CITY, "--file", "-", stdin=_jsonl(rest))
    shown = _kofu(env, "show", "--city", CITY, "--resident", WIFE, "--json")
    later = [
        {"kind": "household_head_change", "resident": WIFE, "effective": "2026-12-01"},
        {
            "kind": "issuance_block",
            "resident": WIFE,
            "effective": "2026-12-01",
            "reason": "確認中",
            "level": "alert",
        },
    ]
    change = _kofu(env, "event", "--city", CITY, "--file", "-", stdin=_jsonl(later))
    out = home / "out" / "jumin.pdf"
    issued = _kofu(
        env,
        "issue",
        "--city",
        CITY,
        "--resident",
        WIFE,
        "--type",
        "juminhyo",
        "--household",
        "all",
        "--with",
        "head",
        "--copies",
        "2",
        "--terminal",
        "本庁3",
        "--out",
        str(out),
        "--json",
    )
    refused = _kofu(  # a 除票 of a current resident: refused at the counter, and counted
        env, "issue", "--city", CITY, "--resident", WIFE, "--type", "johyo", "--out", str(out)
    )
    return {
        "death": death,
        "shown": shown,
        "change": change,
        "issued": issued,
        "out": out,
        "refused": refused,
        "home": home,
    }


def _a_town(home: Path) -> str:
    """A town of the seeded city, read from its store (one command fewer to start)."""
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    try:
        with CityUnitOfWork(engine) as uow:
            return uow.registers.residents(limit=1)[0].address.town
    finally:
        engine.dispose()


def _jsonl(events: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(e, ensure_ascii=False) for e in events)


def test_the_heads_death_alerts_in_event_and_show(session: dict[str, Any]) -> None:
    death = session["death"]
    assert death.returncode == 0, death.stderr
    absent = [c for c in _lines(death.stdout) if c["kind"] == "household_head_absent"]
    assert len(absent) == 3 and all("世帯主不在" in c["alert"] for c in absent)
    [shown] = _lines(session["shown"].stdout)
    assert any("世帯主不在" in a for a in shown["alerts"])
    assert shown["record"]["relationship"] == "妻"


def test_the_head_change_restates_and_two_copies_are_numbered(session: dict[str, Any]) -> None:
    change = session["change"]
    assert change.returncode == 0, change.stderr
    relations = {c["resident"]: c["changed"].get("relationship") for c in _lines(change.stdout)}
    assert relations[FATHER] == "夫の父" and relations[MOTHER] == "夫の母"
    issued = session["issued"]
    assert issued.returncode == 0, issued.stderr
    [summary] = _lines(issued.stdout)
    numbers = [c["issue_number"] for c in summary["copies"]]
    assert len(set(numbers)) == 2
    assert summary["warnings"] and "確認中" in summary["warnings"][0]
    assert summary["issue_label"].startswith("20261201 花巻市 本庁3 プリンタ001 ")
    second = Path(summary["copies"][1]["file"])
    assert second.name == "jumin-2.pdf" and second.is_file()
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", str(session["out"]), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert "夫の父" in flat and "明治45年7月30日生" in flat
    # 5.2: the head, then relatives outside the head's own family by birth (梅子 1912, 正男 1932)
    assert flat.index("甲斐花子") < flat.index("甲斐梅子") < flat.index("甲斐正男")


def test_a_refused_issue_is_counted_by_its_reason(session: dict[str, Any]) -> None:
    refused = session["refused"]
    assert refused.returncode != 0 and "a current resident" in refused.stderr
    engine = make_engine(f"sqlite:///{session['home'] / f'city_{CITY}.sqlite'}")
    try:
        with engine.connect() as conn:
            log = t.activity_log
            rows = conn.execute(
                select(log.c.channel, log.c.cause).where(log.c.kind == "certificate.refused")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("counter", "not_removed")]


def test_provisional_entry_ex_officio_and_cancellation_through_the_cli(
    session: dict[str, Any],
) -> None:
    """仮登録 → 本登録 of an ex-officio 転居, then its 取消, and the new issue options."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_DATABASE")}
    env |= {"KOFU_HOME": str(session["home"]), "KOFU_NOW": "2026-12-01T10:00:00+09:00"}
    move = {
        "kind": "move_within",
        "resident": FATHER,
        "effective": "2026-12-01",
        "whole_household": False,
        "address": {"town": _a_town(session["home"]), "block": "7番地"},
        "ex_officio": {"basis": "実態調査"},
    }
    entered = _kofu(
        env,
        "event",
        "enter",
        "--city",
        CITY,
        "--file",
        "-",
        "--staff",
        "k-0042",
        stdin=_jsonl([move]),
    )
    assert entered.returncode == 0, entered.stderr
    [entry] = _lines(entered.stdout)
    assert entry["state"] == "pending" and entry["resident_code"] == FATHER
    listed = _lines(_kofu(env, "event", "pending", "--city", CITY).stdout)
    assert [e["entry_id"] for e in listed] == [entry["entry_id"]]
    registered = _kofu(env, "event", "register", "--city", CITY, "--entry", entry["entry_id"])
    assert registered.returncode == 0, registered.stderr
    [change] = _lines(registered.stdout)
    assert (
        change["kind"] == "move_within" and change["changed"]["ex_officio"]["basis"] == "実態調査"
    )
    [shown] = _lines(_kofu(env, "show", "--city", CITY, "--resident", FATHER, "--json").stdout)
    newest = shown["history"][-1]
    assert newest["ex_officio"]["basis"] == "実態調査"
    cancel = {
        "kind": "cancellation",
        "resident": FATHER,
        "effective": "2026-12-01",
        "version": newest["version"],
        "reason": "処理誤り",
    }
    undone = _kofu(env, "event", "--city", CITY, "--file", "-", stdin=_jsonl([cancel]))
    assert undone.returncode == 0, undone.stderr
    assert [c["kind"] for c in _lines(undone.stdout)] == ["cancellation"]
    out = str(session["home"] / "out" / "x.pdf")
    wrong = _kofu(
        env,
        "issue",
        "--city",
        CITY,
        "--resident",
        FATHER,
        "--type",
        "juminhyo",
        "--in-lieu",
        "--out",
        out,
    )
    assert wrong.returncode != 0 and "--in-lieu" in wrong.stderr
    alone = _kofu(
        env,
        "issue",
        "--city",
        CITY,
        "--resident",
        FATHER,
        "--type",
        "juminhyo",
        "--special",
        "--out",
        out,
    )
    assert alone.returncode != 0 and "--special goes with --history" in alone.stderr
