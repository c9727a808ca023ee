"""Juki-net as real processes over mutual TLS: a city, its prefecture's server, the national one.

The prefecture's and the national server are killed with SIGKILL in the
middle of a batch of register changes and started again on the same port:
nothing is lost, nothing is applied twice, every resident code is unique.
Each endpoint answers only the callers its rules name.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.events import apply_events
from kofu.core.clock import JST, FixedClock
from kofu.core.db import make_engine
from kofu.core.network import client_context, network_identity
from services import KOFU, seeded_city_home

CITY = "032051"  # Hanamaki, prefecture 03
NOW = "2026-11-24T12:00:00+09:00"
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=JST)


class Service:
    """One ``kofu serve …`` process that a test may kill outright and start again."""

    def __init__(self, args: list[str], home: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.home, self.env = args, home, env or {}
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(self.home), "KOFU_NOW": NOW, **self.env}
        port = ["--port", self.ready["url"].rsplit(":", 1)[1]] if self.ready else []
        self.proc = subprocess.Popen(
            [str(KOFU), *self.args, *port],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"kofu {' '.join(self.args)} exited before it was ready"
        self.ready = json.loads(line)
        return self.ready

    def kill(self) -> None:
        """SIGKILL: no goodbye, no flush, as a power cut."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    seeded_city_home(home, CITY, date(2026, 11, 24), "c0ffee")
    national = Service(["serve", "juki", "--national"], home)
    services = [national]
    try:
        nat = national.start()
        pref = Service(["serve", "juki", "--prefecture", "03", "--upstream", nat["url"]], home)
        services.append(pref)
        pref_url = pref.start()["url"]
        city_args = ["serve", "city", "--city", CITY, "--mtls", "--juki", pref_url]
        city = Service(city_args, home, {"KOFU_JUKI_CHECK_SECONDS": "5"})
        services.append(city)
        city.start()
        yield {"home": home, "national": national, "pref": pref, "url": nat["url"]}
    finally:
        for service in reversed(services):
            service.stop()


def _client(home: Path, name: str) -> httpx.Client:
    return httpx.Client(verify=client_context(network_identity(home, name, "lgwan")), timeout=10)


def _residents(home: Path) -> list[str]:
    with sqlite3.connect(home / f"city_{CITY}.sqlite") as db:
        return [r[0] for r in db.execute("SELECT resident_code FROM residents")]


def _wait_for(check: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "Juki-net did not converge in time"
        time.sleep(0.5)


def _national_holds(net: dict[str, Any], count: int) -> bool:
    with _client(net["home"], "juki-watch") as client:
        try:
            return int(client.get(f"{net['url']}/health").json()["records"]) >= count
        except httpx.HTTPError:
            return False


def _births(home: Path, count: int) -> list[str]:
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    try:
        with CityUnitOfWork(engine, today=NOON.date()) as uow:
            mother = uow.registers.sample_holder()
            assert mother is not None
        event = {
            "kind": "birth",
            "effective": "2026-11-20",
            "mother": mother.resident_code,
            "name": "花巻　一郎",
            "kana": "ハナマキ　イチロウ",
            "sex": "male",
        }
        made = []
        for _ in range(count):
            (change, *_) = apply_events(
                uow=CityUnitOfWork(engine), events=[event], clock=FixedClock(NOON)
            )
            made.append(str(change.resident))
        return made
    finally:
        engine.dispose()


def test_servers_killed_mid_batch_lose_nothing_and_apply_nothing_twice(
    net: dict[str, Any],
) -> None:
    home = net["home"]
    _wait_for(lambda: _national_holds(net, len(_residents(home))))
    born = _births(home, 5)
    net["pref"].kill()  # in the middle of the batch
    born += _births(home, 5)
    net["national"].kill()
    net["pref"].start()
    born += _births(home, 5)
    net["national"].start()
    born += _births(home, 5)
    everyone = _residents(home)
    assert len(everyone) == len(set(everyone)) and set(born) <= set(everyone)
    _wait_for(lambda: _national_holds(net, len(everyone)))
    with sqlite3.connect(home / "juki.sqlite") as db:
        held = {r[0] for r in db.execute("SELECT resident_code FROM identities")}
        (last,) = db.execute("SELECT last_seq FROM cursors WHERE sender = 'pref-03'").fetchone()
        (received, distinct) = db.execute(
            "SELECT count(*), count(DISTINCT seq) FROM received WHERE sender = 'pref-03'"
        ).fetchone()
        national_blocks = list(db.execute("SELECT first, count FROM code_blocks"))
    assert held == set(everyone)  # nothing lost, no one extra
    assert received == distinct == last  # every seq once, none skipped
    with sqlite3.connect(home / "juki_pref_03.sqlite") as db:
        city_blocks = list(db.execute("SELECT first, count FROM code_blocks"))
        (unsent,) = db.execute("SELECT count(*) FROM forward WHERE state != 'sent'").fetchone()
    assert unsent == 0
    given = [b for first, n in city_blocks for b in range(first, first + n)]
    assert len(given) == len(set(given))  # no code given twice
    stock = [b for first, n in national_blocks for b in range(first, first + n)]
    assert set(given) <= set(stock) and len(stock) == len(set(stock))
    assert {int(code[:10]) for code in born} <= set(given)  # births took the block's codes


def test_each_endpoint_answers_only_the_callers_its_rules_name(net: dict[str, Any]) -> None:
    home, url = net["home"], net["url"]
    pref_url = net["pref"].ready["url"]
    someone = _residents(home)[0]
    notice = {"sender": "city-112186", "notices": []}
    with _client(home, "city-112186") as other_city:  # another prefecture's city
        answer = other_city.post(f"{pref_url}/notices", json=notice | {"notices": [_notice()]})
        assert answer.status_code in (403, 422)
        unordered = {"city": "112186", "records": [_notice()["record"]]}
        legacy = other_city.post(f"{pref_url}/identities", json=unordered)
        assert legacy.status_code == 403 and legacy.json()["reason"] == "report_through_notices"
        records = other_city.get(f"{pref_url}/cities/{CITY}/records")
        assert records.status_code == 403 and records.json()["reason"] == "caller_not_allowed"
        # a city finds another's resident's home city (wide-area, special moves) …
        assert other_city.get(f"{url}/residents/{someone}").status_code in (200, 404)
    with _client(home, "city-112186-counter") as terminal:  # … its staff terminals do not
        asked = terminal.get(f"{url}/residents/{someone}")
        assert asked.status_code == 403 and asked.json()["reason"] == "caller_not_allowed"
    with _client(home, "center") as center:
        forged = center.post(f"{url}/notices", json={"sender": "pref-03", "notices": [_notice()]})
        assert forged.status_code == 403
        assert center.get(f"{url}/residents/{someone}").status_code == 200
        assert center.get(f"{url}/identity/{someone}?purpose=pension-benefit").status_code == 403
    with _client(home, "agency-japan-pension-service") as pension:
        given = pension.get(f"{url}/identity/{someone}?purpose=pension-benefit")
        assert given.status_code == 200 and given.json()["record"]["resident_code"] == someone
        wrong = pension.get(f"{url}/identity/{someone}?purpose=passport-issue")
        assert wrong.status_code == 403 and wrong.json()["reason"] == "purpose_not_allowed"
        assert pension.get(f"{url}/disclosures/{someone}").status_code == 403
    with _client(home, "juki-disclosure") as desk:
        shown = desk.get(f"{url}/disclosures/{someone}").json()
    assert [p["agency"] for p in shown["provisions"]] == ["japan-pension-service"]


def _notice() -> dict[str, Any]:
    from kofu.core.identifiers import IndividualNumber, ResidentCode

    return {
        "seq": 1,
        "record": {
            "resident_code": str(ResidentCode.from_base("9999999999")),
            "individual_number": str(IndividualNumber.from_base("99999999999")),
            "name": "偽　名",
            "birth_date": "1990-01-01",
            "sex": "male",
            "address": "埼玉県深谷市",
            "city": "112186",
            "state": "resident",
            "version": 1,
            "since": "2020-01-01",
        },
        "reason": "move_in",
        "effective": "2020-01-01",
        "recorded_at": "2026-11-24T03:00:00+00:00",
    }


def test_the_clerk_changes_a_code_by_post_and_the_check_repairs_a_drift(
    net: dict[str, Any],
) -> None:
    home = net["home"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW}

    def kofu(*args: str) -> dict[str, Any]:
        done = subprocess.run([str(KOFU), *args, "--json"], capture_output=True, text=True, env=env)
        return json.loads(done.stdout.splitlines()[-1])

    old = _residents(home)[1]
    slip = home / "slip.pdf"
    changed = kofu("resident-code", "change", "--city", CITY, "--resident", old, "--by", "post",
                   "--out", str(slip))  # fmt: skip
    assert slip.read_bytes().startswith(b"%PDF") and changed["new_code"] != old
    _wait_for(lambda: _retired(net, old))
    with sqlite3.connect(home / "juki.sqlite") as db:  # a row lost at the national server
        db.execute("DELETE FROM identities WHERE resident_code = ?", (changed["new_code"],))
    found = kofu("juki", "check", "--city", CITY)
    assert not found["consistent"]
    assert {(d["server"], d["kind"]) for d in found["differences"]} == {("national", "missing")}
    repaired = kofu("juki", "check", "--city", CITY, "--repair")
    assert repaired["repaired"]
    _wait_for(lambda: _consistent(net))
    periodic = home / "juki-net" / f"check-{CITY}.json"  # the city server's own check
    _wait_for(periodic.exists)
    assert json.loads(periodic.read_text())["servers"] == ["pref-03"]


def _consistent(net: dict[str, Any]) -> bool:
    """The same check as the command's, run here (each command costs a process start)."""
    from kofu.city.adapters.uow import city_units
    from kofu.city.services.juki_cs import check_consistency
    from kofu.core.jukilink import JukiLink
    from kofu.core.link import Link

    home = net["home"]
    context = client_context(network_identity(home, f"city-{CITY}", "lgwan"))
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    with Link(context) as link:
        servers = {
            "pref-03": JukiLink(net["pref"].ready["url"], link),
            "national": JukiLink(net["url"], link),
        }
        try:
            return bool(check_consistency(city_units(engine), servers, NOON.date())["consistent"])
        finally:
            engine.dispose()


def _retired(net: dict[str, Any], code: str) -> bool:
    with _client(net["home"], "center") as center:
        answer = center.get(f"{net['url']}/residents/{code}")
    return answer.status_code == 403 and answer.json()["reason"] == "resident_code_retired"


def test_another_prefectures_server_finds_a_resident_through_the_national_one(
    net: dict[str, Any],
) -> None:
    """Fukaya (prefecture 11) asks its own server about a Hanamaki resident (prefecture 03):
    the Saitama server holds no record of them and asks the national server, so a wide-area
    certificate or a special move needs only the city's own server (CS → 都道府県 → 全国)."""
    home = net["home"]
    someone = _residents(home)[0]
    _wait_for(lambda: _national_holds(net, len(_residents(home))))
    saitama = Service(["serve", "juki", "--prefecture", "11", "--upstream", net["url"]], home)
    try:
        url = saitama.start()["url"]
        with _client(home, "city-112186") as fukaya:
            found = fukaya.get(f"{url}/residents/{someone}")
            assert found.status_code == 200, found.text
            assert found.json()["city"] == CITY
            nobody = fukaya.get(f"{url}/residents/99999999999")
            assert nobody.status_code in (404, 422), nobody.text  # a 4xx naming the code
            assert "99999999999" in nobody.text or "resident_code" in nobody.text
        with _client(home, "city-112186-counter") as terminal:  # the rule is the server's own
            asked = terminal.get(f"{url}/residents/{someone}")
            assert asked.status_code == 403 and asked.json()["reason"] == "caller_not_allowed"
        with _client(home, "juki-watch") as watcher:  # the national answers servers, not anyone
            asked = watcher.get(f"{net['url']}/residents/{someone}")
            assert asked.status_code == 403 and asked.json()["reason"] == "caller_not_allowed"
    finally:
        saitama.stop()
