"""Juki-net services between real processes: wide-area certificates, special moves, 継続利用.

jpki, juki, the two demo cities (mutual TLS, LGWAN) and the issuance center
run as processes; the counters (the issuing city, the old and the new city)
act in this process or through the ``kofu`` command, as a clerk's desk does.
Faults are real: a city is killed with SIGKILL in the middle and started
again on its port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kofu.card.ledger import CardLedger
from kofu.city.adapters.citylink import CityLink
from kofu.city.adapters.jpki_http import HttpAuthority
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import LEAD_TIME, CardRecord
from kofu.city.domain.model import Resident
from kofu.city.services import card_desk as desk
from kofu.city.services.events import apply_events
from kofu.city.services.outbox import deliver_to_jpki
from kofu.city.services.seeding import seed_city
from kofu.city.services.special_move import special_move_out
from kofu.city.services.special_move_in import special_move_in
from kofu.city.services.wide_area import issue_wide_area
from kofu.city.store import city_engine
from kofu.cli.wiring import card_master_key
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Refused
from kofu.core.network import client_context, network_identity
from kofu.core.settings import Settings
from services import KOFU

pytestmark = pytest.mark.slow

FUKAYA, HANAMAKI = "112186", "032051"
DAY = date(2026, 12, 1)  # a Tuesday: the stores are open
NOW = "2026-12-01T10:00:00+09:00"  # the services' clocks start here and run on
AT = datetime(2026, 12, 1, 11, 0, tzinfo=JST)  # the counters' instant, after the cards were made
SEEDED = DAY - timedelta(days=40)  # every seeded change is older than the moves here


# --- processes ---------------------------------------------------------------------------


def _env(home: Path, now: str = NOW, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    return env | {"KOFU_HOME": str(home), "KOFU_NOW": now, **extra}


def _launch(stack: ExitStack, args: list[str], home: Path) -> subprocess.Popen[str]:
    """``kofu ARGS`` started now, stopped by its PID when ``stack`` closes, whatever happened."""
    proc = subprocess.Popen(
        [str(KOFU), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(home),
    )

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    stack.callback(stop)
    return proc


def _ready(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The process's ready line (services print one JSON line when they listen)."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, f"{proc.args} exited before it was ready"
    return dict(json.loads(line))


def _cli(
    home: Path, *args: str, now: datetime = AT, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KOFU), *args],
        capture_output=True,
        text=True,
        env=_env(home, now.isoformat(), **env),
        timeout=180,
    )


class World:
    """The running system, and the desks of both cities in this process."""

    def __init__(self, home: Path, urls: dict[str, Any]) -> None:
        self.home, self.urls = home, urls
        self.settings = Settings(home=home, database_url=None, schema_prefix="")
        self.engines = {c: city_engine(self.settings, c) for c in (FUKAYA, HANAMAKI)}
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.stack = ExitStack()
        self.cast: dict[str, list[Resident]] = {}  # who plays which part, chosen once
        self.links: dict[str, CityLink] = {}
        self.authorities: dict[str, HttpAuthority] = {}

    def uow(self, code: str, on: date = DAY) -> CityUnitOfWork:
        return CityUnitOfWork(self.engines[code], today=on)

    def link(self, code: str) -> CityLink:
        """The city's link, one per city, closed with the world."""
        if code not in self.links:
            network = self.stack.enter_context(CityLink(self.settings, code, self.urls["juki"]))
            network.jpki = self.urls["jpki_private"]
            self.links[code] = network
        return self.links[code]

    def authority(self, code: str) -> HttpAuthority:
        if code not in self.authorities:
            self.authorities[code] = HttpAuthority(
                self.urls["jpki_private"], network_identity(self.home, f"city-{code}", "lgwan")
            )
            self.stack.callback(self.authorities[code].client.close)
        return self.authorities[code]

    def start_city(self, code: str, port: int = 0) -> dict[str, Any]:
        args = ["serve", "city", "--city", code, "--mtls", "--juki", self.urls["juki"]]
        proc = _launch(self.stack, [*args, "--port", str(port)], self.home)
        self.procs[code] = proc
        return _ready(proc)

    def kill(self, code: str) -> int:
        """SIGKILL the city's process (no goodbye); its port, to start it again on."""
        proc = self.procs[code]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        return int(self.urls[code].rsplit(":", 1)[1])

    def people(self, code: str) -> list[Resident]:
        with self.uow(code) as u:
            return u.registers.residents()

    def household(self, code: str, person: Resident) -> list[Resident]:
        with self.uow(code) as u:
            return list(u.registers.household(person.household_id))

    def issue_card(self, code: str, person: Resident, label: str) -> tuple[Path, CardRecord]:
        """The card desk's whole flow for ``person``, certified by the running authority."""
        path = self.home / "cards" / f"{label}.json"
        path.parent.mkdir(exist_ok=True)
        clock = FixedClock(AT)
        made = desk.apply_for_card(
            uow=self.uow(code), resident_code=person.resident_code, channel="counter", clock=clock
        )
        desk.send_notices(uow=self.uow(code), clock=FixedClock(AT + LEAD_TIME))
        slot = desk.add_slot(
            uow=self.uow(code),
            starts_at=AT + timedelta(minutes=1),
            minutes=30,
            capacity=1,
            kind="regular",
            clock=clock,
        )
        desk.book_slot(
            uow=self.uow(code),
            application_id=made.application_id,
            slot_id=slot.slot_id,
            clock=clock,
        )
        authority = self.authority(code)
        record = desk.hand_over(
            uow=self.uow(code),
            application_id=made.application_id,
            documents=["driving_licence"],
            pin="1234",
            password="KOFU2026",
            authority=authority,
            card_path=path,
            master_key=card_master_key(self.settings),
            clock=clock,
            ledger=CardLedger.under(self.home),
        )
        return path, record

    def counts(self, code: str) -> dict[str, int]:
        """Rows that a refused request must leave as they were."""
        with self.uow(code) as u:
            conn = u.registers.conn
            tables = ("residents", "resident_versions", "move_ins", "move_outs", "issuance_log")
            return {
                t: int(conn.exec_driver_sql(f"select count(*) from {t}").scalar_one())
                for t in (*tables, "citylink_requests", "cards")
            }


def _held_by(
    world: World, code: str, resident: str, timeout: float = 60, state: str | None = None
) -> dict[str, Any]:
    """juki's record of the person once ``code`` holds it (cities report every 2 s), and once
    it is in ``state`` when one is named: a change reaches juki on the city's next turn."""
    identity = client_context(network_identity(world.home, "center", "lgwan"))
    deadline = time.monotonic() + timeout
    answer: dict[str, Any] = {}
    with httpx.Client(verify=identity, timeout=10) as client:
        while time.monotonic() < deadline:
            reply = client.get(f"{world.urls['juki']}/residents/{resident}")
            if reply.status_code == 200:
                answer = reply.json()
                if answer["city"] == code and state in (None, answer["state"]):
                    return answer
            time.sleep(0.5)
    return answer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("home")
    conf = Settings(home=home, database_url=None, schema_prefix="")
    with ExitStack() as stack:  # started side by side, each stopped by its PID at the end
        authority = _launch(stack, ["serve", "jpki"], home)
        directory = _launch(stack, ["serve", "juki"], home)
        for code, seed in ((FUKAYA, 5), (HANAMAKI, 6)):  # while they start
            engine = city_engine(conf, code)
            seed_city(engine=engine, code=code, residents=120, seed=seed, today=SEEDED)
            engine.dispose()
        jpki, juki = _ready(authority), _ready(directory)
        urls: dict[str, Any] = {"jpki_private": jpki["private"], "juki": juki["url"]}
        world = World(home, urls)
        stack.enter_context(world.stack)
        args = ["serve", "city", "--mtls", "--juki", juki["url"], "--port", "0"]
        cities = {c: _launch(world.stack, [*args, "--city", c], home) for c in (FUKAYA, HANAMAKI)}
        for code, proc in cities.items():
            world.procs[code] = proc
            urls[code] = _ready(proc)["url"]
        route = ["--jpki", jpki["private"], "--juki", juki["url"]]
        links = [f"--city={c}={urls[c]}" for c in (FUKAYA, HANAMAKI)]
        urls["center"] = _ready(_launch(stack, ["serve", "center", *route, *links], home))["url"]
        world.cast = _cast(world)
        yield world


def _households(world: World, code: str) -> list[list[Resident]]:
    """Households of Japanese members whose head is an adult, head first, by resident code."""
    seen: dict[str, list[Resident]] = {}
    for p in world.people(code):
        seen.setdefault(p.household_id, []).append(p)
    out = []
    for members in seen.values():
        head = next((m for m in members if m.relationship == "世帯主"), None)
        if head is not None and all(m.foreign is None for m in members) and head.age_on(DAY) >= 20:
            out.append(sorted(members, key=lambda m: m.relationship != "世帯主"))
    return out


def _cast(world: World) -> dict[str, list[Resident]]:
    """Distinct households for each test, so their order never matters."""
    fukaya, hanamaki = _households(world, FUKAYA), _households(world, HANAMAKI)
    big_f = [h for h in fukaya if len(h) >= 2]
    rest_f = [h for h in fukaya if h is not big_f[0]]
    big_h = [h for h in hanamaki if len(h) >= 2]
    rest_h = [h for h in hanamaki if h is not big_h[0] and h is not big_h[1]]
    return {
        "story": big_f[0],
        "lost": rest_f[0],
        "late": rest_f[1],
        "killed": rest_f[2],
        "doors": rest_f[3],
        "wide": big_h[0],
        "wide_killed": big_h[1],
        "protected": rest_h[0],
    }


# --- the story of the issue's "Done when" ------------------------------------------------


def test_the_story_wide_area_then_a_household_moves_and_prints_at_a_store(world: World) -> None:
    home = world.home
    hanamaki = world.cast["wide"]
    assert _held_by(world, HANAMAKI, hanamaki[0].resident_code)["state"] == "resident"
    # 1. a Hanamaki resident gets a wide-area certificate at Fukaya's counter
    pdf = home / "wide-area.pdf"
    args = ["wide-area", "issue", "--at", FUKAYA, "--resident", hanamaki[0].resident_code]
    done = _cli(
        home, *args, "--id-check", "licence", "--household", "all", "--with", "head",
        "--out", str(pdf), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    issued = json.loads(done.stdout)
    assert (issued["issuing_city"], issued["home_city"]) == (FUKAYA, HANAMAKI)
    assert set(issued["subjects"]) == {m.resident_code for m in hanamaki}
    assert issued["fee"] == 200  # Fukaya's fee, Fukaya's number and certification
    assert pdf.read_bytes().startswith(b"%PDF")

    # 2. a Fukaya household moves to Hanamaki: special move-out online, move-in with the card
    fukaya = world.cast["story"]
    card, record = world.issue_card(FUKAYA, fukaya[0], "story")
    codes = ",".join(m.resident_code for m in fukaya)
    moved = DAY - timedelta(days=2)
    out = _cli(
        home, "move-out", "--city", FUKAYA, "--resident", fukaya[0].resident_code,
        "--to", HANAMAKI, "--planned", moved.isoformat(), "--household", codes,
        "--by", "online", "--card", str(card), "--password", "KOFU2026",
        "--town", "東和町北成島", "--block", "1番地", "--json",
        KOFU_JPKI_URL=world.urls["jpki_private"],
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["channel"] == "online" and len(data["members"]) == len(fukaya)
    held = _held_by(world, FUKAYA, fukaya[0].resident_code, state="moved_out")
    assert held["state"] == "moved_out"
    came = _cli(
        home, "move-in", "--city", HANAMAKI, "--card", str(card), "--pin", "1234",
        "--moved", moved.isoformat(), "--json", KOFU_JPKI_URL=world.urls["jpki_private"],
    )  # fmt: skip
    assert came.returncode == 0, came.stderr
    registered = json.loads(came.stdout)
    assert set(registered["residents"]) == {m.resident_code for m in fukaya}
    assert registered["address"].startswith("岩手県花巻市東和町北成島")
    with world.uow(HANAMAKI) as u:
        newcomer = u.registers.resident(fukaya[0].resident_code)
        assert newcomer is not None and newcomer.individual_number == fukaya[0].individual_number
        assert newcomer.domicile == fukaya[0].domicile  # kept from the move-out data
    assert _held_by(world, HANAMAKI, fukaya[0].resident_code)["state"] == "resident"
    with world.uow(FUKAYA) as u:  # the 転入通知 reached the old city
        assert u.citylink.move_out(data["move_out_id"])["state"] == "moved_in"  # type: ignore[index]
    # the signature certificate was revoked by the move; the authentication one continues
    status = world.link(HANAMAKI)
    assert status.certificate_status(record.sign_serial or "").status == "revoked"
    assert status.certificate_status(record.auth_serial).status == "good"

    # 3. the store refuses the card until it is carried over (継続利用)
    kiosk = ["kiosk", "--card", str(card), "--pin", "1234", "--city", "residence"]
    store_pdf = home / "store.pdf"
    env = {"KOFU_CENTER_URL": world.urls["center"]}
    early = _cli(home, *kiosk, "--type", "juminhyo", "--out", str(store_pdf), "--json", **env)
    assert early.returncode != 0 and "継続利用" in early.stdout + early.stderr
    kept = _cli(home, "card", "continue", "--city", HANAMAKI, "--card", str(card), "--pin", "1234",
                "--json")  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["address"].startswith("岩手県花巻市")

    # 4. then prints a residence certificate at a store, from the new city
    printed = _cli(home, *kiosk, "--type", "juminhyo", "--out", str(store_pdf), "--json", **env)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert store_pdf.read_bytes().startswith(b"%PDF")
    assert HANAMAKI in printed.stdout


# --- wide-area: refusals, idempotence, a killed home city ------------------------------


def _wide_area(world: World, resident: str, request_id: str, **options: Any) -> Any:
    return issue_wide_area(
        uow=world.uow(FUKAYA),
        code=FUKAYA,
        clock=FixedClock(AT),
        network=world.link(FUKAYA),
        request_id=request_id,
        resident=resident,
        id_check="card",
        **options,
    )


def test_a_protected_person_is_refused_with_a_code_only(world: World) -> None:
    person = world.cast["protected"][0]
    apply_events(
        uow=world.uow(HANAMAKI),
        events=[
            {
                "kind": "support_measure",
                "resident": person.resident_code,
                "effective": (DAY - timedelta(days=1)).isoformat(),
                "measure": "DV",
            }
        ],
        clock=FixedClock(AT),
    )
    before = world.counts(FUKAYA)
    with pytest.raises(Refused) as refused:
        _wide_area(world, person.resident_code, "wa-protected-0001")
    words = f"{refused.value.message} {refused.value.message_ja}"
    assert refused.value.reason == "wide_area_refused"
    assert "support" not in words and "支援" not in words and "DV" not in words
    after = world.counts(FUKAYA)
    assert after["issuance_log"] == before["issuance_log"]  # nothing printed, nothing charged
    with world.uow(FUKAYA) as u:
        kept = u.citylink.wide_area("wa-protected-0001", "issuing")
    assert kept is not None and kept.state == "refused"


class _DeskCrashed(Exception):
    """The issuing city's desk died before it printed (a power cut at the counter)."""


class _KillAfter(CityLink):
    """The real link; the other city is SIGKILLed right after it answered, then the desk dies."""

    def __init__(self, world: World, code: str, victim: str) -> None:
        super().__init__(world.settings, code, world.urls["juki"])
        self.jpki, self.world, self.victim = world.urls["jpki_private"], world, victim
        world.stack.callback(self.close)

    def wide_area(self, home_city: str, request: Any) -> Any:
        super().wide_area(home_city, request)
        self.world.kill(self.victim)
        raise _DeskCrashed

    def move_out_data(self, from_city: str, resident_code: str) -> Any:
        data = super().move_out_data(from_city, resident_code)
        self.world.kill(self.victim)  # the old city dies before the 転入通知
        return data


def test_the_home_city_killed_mid_request_loses_nothing_and_issues_once(world: World) -> None:
    person = world.cast["wide_killed"][0]
    before = world.counts(FUKAYA)
    port = int(world.urls[HANAMAKI].rsplit(":", 1)[1])
    try:
        with pytest.raises(_DeskCrashed):  # Hanamaki answered and died; Fukaya printed nothing
            issue_wide_area(
                uow=world.uow(FUKAYA),
                code=FUKAYA,
                clock=FixedClock(AT),
                network=_KillAfter(world, FUKAYA, HANAMAKI),
                request_id="wa-killed-00001",
                resident=person.resident_code,
                id_check="card",
                household="all",
            )
        assert world.counts(FUKAYA) == before  # nothing recorded, nothing numbered
        with pytest.raises(Refused) as down:  # asked again while Hanamaki is down
            _wide_area(world, person.resident_code, "wa-killed-00001", household="all")
        assert down.value.reason == "city_unavailable" and world.counts(FUKAYA) == before
    finally:
        world.urls[HANAMAKI] = world.start_city(HANAMAKI, port)["url"]
    first = _wide_area(world, person.resident_code, "wa-killed-00001", household="all")
    again = _wide_area(world, person.resident_code, "wa-killed-00001", household="all")
    assert not first.reprint and again.reprint
    assert again.certificate.issue_number == first.certificate.issue_number
    assert again.certificate.content_digest == first.certificate.content_digest
    with world.uow(FUKAYA) as u:
        issuing = u.citylink.wide_area("wa-killed-00001", "issuing")
    with world.uow(HANAMAKI) as u:
        home = u.citylink.wide_area("wa-killed-00001", "home")
        counted = u.citylink.wide_area_counts(DAY, DAY)
    assert issuing is not None and home is not None
    assert (issuing.state, home.state) == ("issued", "issued")
    assert home.answer == issuing.answer  # the kept answer, not a second one
    assert world.counts(FUKAYA)["issuance_log"] == before["issuance_log"] + 1  # once
    assert sum(r["count"] for r in counted if r["role"] == "home") >= 1
    with pytest.raises(Exception, match="another request"):  # the id for something else: 409
        _wide_area(world, person.resident_code, "wa-killed-00001", household="self")


def test_only_the_named_cities_may_use_the_city_to_city_doors(world: World) -> None:
    """The issuing city is the caller; move-out data goes only to its destination."""
    mover = world.cast["doors"][0]
    world.issue_card(FUKAYA, mover, "doors")
    special_move_out(
        uow=world.uow(FUKAYA),
        code=FUKAYA,
        clock=FixedClock(AT),
        resident=mover.resident_code,
        to_city=HANAMAKI,
        planned=DAY + timedelta(days=5),
        town="東和町北成島",
    )
    url = world.urls[FUKAYA]
    for name in (f"city-{FUKAYA}", "city-011002", "center"):
        who = client_context(network_identity(world.home, name, "lgwan"))
        with httpx.Client(verify=who, timeout=10) as client:
            data = client.get(f"{url}/citylink/move-outs/{mover.resident_code}")
            assert data.status_code == 403 and data.json()["reason"] == "caller_not_allowed"
            notice = client.post(
                f"{url}/citylink/move-ins",
                json={
                    "move_out_id": "mo-00000000",
                    "to_city": HANAMAKI,
                    "moved_on": DAY.isoformat(),
                    "notified_on": DAY.isoformat(),
                    "residents": [mover.resident_code],
                },
            )
            assert notice.status_code == 403
            asked = client.post(  # a request in another city's name than the caller's
                f"{world.urls[HANAMAKI]}/citylink/wide-area",
                json={
                    "request_id": "wa-impostor-01",
                    "issuing_city": "011002" if name != "city-011002" else FUKAYA,
                    "resident": mover.resident_code,
                    "id_check": "card",
                },
            )
            assert asked.status_code == 403
    destination = client_context(network_identity(world.home, f"city-{HANAMAKI}", "lgwan"))
    with httpx.Client(verify=destination, timeout=10) as client:
        data = client.get(f"{url}/citylink/move-outs/{mover.resident_code}")
        assert data.status_code == 200 and data.json()["to_city"] == HANAMAKI


# --- special move-in: refusals that change nothing, a killed old city ------------------


def _move_in(world: World, card: Path, moved: date, pin: str = "1234") -> Any:
    return special_move_in(
        uow=world.uow(HANAMAKI),
        code=HANAMAKI,
        clock=FixedClock(AT),
        network=world.link(HANAMAKI),
        card_path=card,
        pin=pin,
        moved=moved,
        master_key=card_master_key(world.settings),
        ledger=CardLedger.under(world.home),
    )


def _moved_out(world: World, label: str, planned: date, at: datetime = AT) -> tuple[Path, str]:
    person = world.cast[label][0]
    card, _ = world.issue_card(FUKAYA, person, label)
    special_move_out(
        uow=world.uow(FUKAYA, at.date()),
        code=FUKAYA,
        clock=FixedClock(at),
        resident=person.resident_code,
        to_city=HANAMAKI,
        planned=planned,
        town="東和町北成島",
    )
    return card, person.resident_code


def test_a_card_reported_lost_cannot_move_in(world: World) -> None:
    card, resident = _moved_out(world, "lost", DAY - timedelta(days=1))
    with world.uow(FUKAYA) as u:
        card_id = u.cards.cards_of(resident)[-1].card_id
    desk.report_lost(uow=world.uow(FUKAYA), card_id=card_id, clock=FixedClock(AT))
    deliver_to_jpki(uow=world.uow(FUKAYA), authority=world.authority(FUKAYA), clock=FixedClock(AT))
    before = world.counts(HANAMAKI)
    with pytest.raises(Refused) as refused:
        _move_in(world, card, DAY - timedelta(days=1))
    assert refused.value.reason == "card_revoked" and refused.value.message_ja
    assert world.counts(HANAMAKI) == before


def test_a_move_in_past_the_limits_is_refused(world: World) -> None:
    long_ago = AT - timedelta(days=20)
    card, _ = _moved_out(world, "late", (DAY - timedelta(days=16)), at=long_ago)
    before = world.counts(HANAMAKI)
    with pytest.raises(Refused) as wrong:  # the card checks the PIN first, and counts the try
        _move_in(world, card, DAY - timedelta(days=16), pin="9999")
    assert wrong.value.reason == "wrong_pin" and "2" in wrong.value.message
    with pytest.raises(Refused) as refused:
        _move_in(world, card, DAY - timedelta(days=16))
    assert refused.value.reason == "move_in_too_late"
    assert world.counts(HANAMAKI) == before


def test_the_old_city_killed_mid_move_in_gets_its_notice_once_restarted(world: World) -> None:
    """Both cities' servers are killed while the 転入通知 is owed; it arrives once, after both."""
    card, resident = _moved_out(world, "killed", DAY - timedelta(days=1))
    before = world.counts(HANAMAKI)
    port = int(world.urls[FUKAYA].rsplit(":", 1)[1])
    new_port = world.kill(HANAMAKI)  # the new city's server, which resends owed notices
    try:
        done = special_move_in(
            uow=world.uow(HANAMAKI),
            code=HANAMAKI,
            clock=FixedClock(AT),
            network=_KillAfter(world, HANAMAKI, FUKAYA),
            card_path=card,
            pin="1234",
            moved=DAY - timedelta(days=1),
            master_key=card_master_key(world.settings),
            ledger=CardLedger.under(world.home),
        )
        assert done.notice == "pending"  # registered here; the old city hears of it later
        with pytest.raises(Refused) as twice:  # the same data again, the old city still down
            _move_in(world, card, DAY - timedelta(days=1))
        assert twice.value.reason in ("already_resident", "move_in_done")
    finally:
        world.urls[FUKAYA] = world.start_city(FUKAYA, port)["url"]
        world.urls[HANAMAKI] = world.start_city(HANAMAKI, new_port)["url"]
    after = world.counts(HANAMAKI)
    assert after["move_ins"] == before["move_ins"] + 1
    assert after["residents"] == before["residents"] + len(done.residents)
    deadline = time.monotonic() + 60  # Hanamaki's server resends the 転入通知 every 2 s
    state = "planned"
    while time.monotonic() < deadline and state != "moved_in":
        with world.uow(FUKAYA) as u:
            state = (u.citylink.move_out(done.move_out_id) or {}).get("state", "")
        time.sleep(0.5)
    assert state == "moved_in"
    with pytest.raises(Refused) as again:
        _move_in(world, card, DAY - timedelta(days=1))
    assert again.value.reason in ("already_resident", "move_in_done")
    assert world.counts(HANAMAKI) == after
    with world.uow(FUKAYA) as u:  # registered in one city only: the old record is removed
        old = u.registers.resident(resident)
    assert old is not None and not old.is_resident
    assert _held_by(world, HANAMAKI, resident)["state"] == "resident"
