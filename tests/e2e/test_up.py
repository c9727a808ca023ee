"""`kofu up`: the whole system from one command; a second start reuses it; SIGTERM or Ctrl-C
stops every service."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services import KOFU, running

NOW = "2026-11-24T12:00:00+09:00"


def _port_open(url: str) -> bool:
    host_port = url.split("://", 1)[1].rstrip("/")
    host, port = host_port.split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


@pytest.mark.slow
def test_up_serves_a_kiosk_and_stops_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "var"
    with running(["up", "--residents", "1500"], home, NOW) as ready:
        assert set(ready["cities"]) == {"112186", "032051"}
        urls = [ready["jpki"], ready["juki"], ready["center"], *ready["cities"].values()]
        assert all(_port_open(u) for u in [*urls, ready["jpki_private"], ready["verifier"]])
        card = ready["cards"][1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
        env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW, "KOFU_CENTER_URL": ready["center"]}
        out = tmp_path / "printed.pdf"
        done = subprocess.run(
            [
                str(KOFU),
                "kiosk",
                "--card",
                card["file"],
                "--pin",
                card["pin"],
                "--type",
                "juminhyo",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert out.read_bytes().startswith(b"%PDF")
        assert (home / "samples" / "032051" / "koseki-zenbu.pdf").exists()
        _office_signs_in(ready)
        assert (home / "samples" / "112186" / "evaluation-16231-2023.pdf").exists()  # seed sheets
        assert (home / "samples" / "032051" / "evaluation-124750-2016.html").exists()
        domiciled = ready["cards"][2]  # lives in Fukaya, family register in Hanamaki
        assert (domiciled["city"], domiciled["domicile_city"]) == ("112186", "032051")
        registered = subprocess.run(
            [
                *(str(KOFU), "kiosk", "--card", domiciled["file"], "--pin", domiciled["pin"]),
                *("--domicile-city", "032051", "--register", domiciled["domicile"]),
                *("--head", domiciled["head"], "--json"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert registered.returncode == 0, registered.stderr
        assert json.loads(registered.stdout)["state"] == "pending"
    assert _until(lambda: not any(_port_open(u) for u in urls), 10)  # all stopped with it
    fukaya = ready["cards"][0]
    card_id = json.loads(Path(fukaya["file"]).read_text(encoding="utf-8"))["card_id"]
    with sqlite3.connect(home / "city_112186.sqlite") as db:
        [(holder,)] = db.execute("SELECT resident_code FROM cards WHERE card_id = ?", (card_id,))
    moving = [*("move-out", "--city", "112186", "--resident", holder, "--to", "032051")]
    moved = subprocess.run(
        [str(KOFU), *moving, "--planned", "2026-11-30"], capture_output=True, text=True, env=env
    )
    assert moved.returncode == 0, moved.stderr  # the move-out ends the holder's 印鑑登録
    with running(["up", "--residents", "1500"], home, NOW, ctrl_c=True) as again:  # reuses data
        assert again["cards"][0]["holder"] == fukaya["holder"]  # not a new card for another
        assert json.loads(Path(fukaya["file"]).read_text(encoding="utf-8"))["card_id"] == card_id
        assert again["cards"][1]["file"] == card["file"]
        assert again["cards"][2]["domicile"] == domiciled["domicile"]
        urls = [again["jpki"], again["juki"], again["center"], *again["cities"].values()]
        assert all(_port_open(u) for u in urls)
    assert _until(lambda: not any(_port_open(u) for u in urls), 10)  # Ctrl-C stopped them too


def _children(pid: int) -> dict[int, str]:
    """The processes ``pid`` started, with their command lines (from /proc)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found[int(stat.parent.name)] = cmdline.decode()
    return found


def _is_city(cmdline: str, code: str) -> bool:
    """The city's certificate server, not its office, which names the city the same way."""
    return " serve city " in cmdline and f"--city {code}" in cmdline


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _until(done: Callable[[], bool], seconds: float) -> bool:
    """Poll ``done()`` until it holds or ``seconds`` pass (a bound, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def _kiosk(home: Path, ready: dict[str, Any], card: dict[str, Any], out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": NOW, "KOFU_CENTER_URL": ready["center"]}
    args = ["kiosk", "--card", card["file"], "--pin", card["pin"], "--type", "juminhyo"]
    done = subprocess.run(
        [str(KOFU), *args, "--out", str(out)], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF")


def _office_signs_in(ready: dict[str, Any]) -> None:
    """Each demo city's office answers on HTTPS; its demo clerk's password is in a 0600 file."""
    import re
    import ssl
    import stat

    import httpx

    staff = Path(ready["staff_passwords"])
    assert stat.S_IMODE(staff.stat().st_mode) == 0o600
    passwords = json.loads(staff.read_text())
    assert set(ready["offices"]) == set(ready["cities"]) == set(passwords)
    for code, url in ready["offices"].items():
        assert url.startswith("https://127.0.0.1:")
        with httpx.Client(
            verify=ssl.create_default_context(cafile=ready_ca(ready)), follow_redirects=True
        ) as client:
            form = client.get(url + "login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            home = client.post(
                url + "login",
                data={"csrf": csrf[1], "user": "clerk", "password": passwords[code]["clerk"]},
            )
            assert home.status_code == 200 and "住民検索" in home.text


def ready_ca(ready: dict[str, Any]) -> str:
    """The network CA the offices' certificates chain to (LGWAN's, under KOFU_HOME)."""
    return str(Path(ready["home"]) / "network" / "lgwan" / "ca.pem")


def _urls(ready: dict[str, Any]) -> list[str]:
    return [
        ready["jpki"],
        ready["juki"],
        ready["center"],
        ready["kiosk"],
        ready["verifier"],
        *ready["cities"].values(),
    ]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads the process table in /proc")
def test_two_systems_side_by_side_survive_a_killed_city_and_a_killed_up(tmp_path: Path) -> None:
    """Free ports, so two `kofu up` share a machine; kill -9 a city: it comes back, the rest
    serve on; kill -9 `kofu up`: none of its processes stay, none of its ports."""
    homes = [tmp_path / "a", tmp_path / "b"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    handles = [log.open("w") for log in logs]  # closed once both are started
    ups = [
        subprocess.Popen(
            [str(KOFU), "up", "--residents", "300"],
            stdout=subprocess.PIPE,
            stderr=handle,
            text=True,
            env=env | {"KOFU_HOME": str(home), "KOFU_NOW": NOW},
        )
        for home, handle in zip(homes, handles, strict=True)
    ]
    for handle in handles:
        handle.close()  # each child has its own copy
    seen: set[int] = set()
    try:
        lines = [up.stdout.readline() if up.stdout else "" for up in ups]
        said = [log.read_text(errors="replace")[-2000:] for log in logs]
        assert all(lines), f"both systems start; what they said: {said}"
        a, b = (json.loads(line) for line in lines)
        assert not set(_urls(a)) & set(_urls(b))
        assert all(_port_open(u) for u in [*_urls(a), *_urls(b)])
        _kiosk(homes[1], b, b["cards"][0], tmp_path / "b.pdf")

        services = _children(ups[0].pid)
        seen |= set(services)
        city = next(p for p, cmd in services.items() if _is_city(cmd, "112186"))
        os.kill(city, signal.SIGKILL)

        def again() -> list[int]:
            return [p for p, c in _children(ups[0].pid).items() if _is_city(c, "112186")]

        assert _until(lambda: bool(again()) and city not in again(), 120)
        assert _until(lambda: _port_open(a["cities"]["112186"]), 120)
        assert all(_alive(p) for p in services if p != city)  # the others kept serving
        _kiosk(homes[0], a, a["cards"][0], tmp_path / "a.pdf")  # through the city started again

        doomed = _children(ups[1].pid)
        seen |= set(doomed)
        ups[1].kill()
        ups[1].wait()
        assert _until(lambda: not any(map(_alive, doomed)), 60)
        assert _until(lambda: not any(map(_port_open, _urls(b))), 60)
        assert ups[0].poll() is None and all(map(_port_open, _urls(a)))
    finally:
        for up in ups:
            seen |= set(_children(up.pid))
            up.terminate()
        for up in ups:
            with contextlib.suppress(subprocess.TimeoutExpired):
                up.wait(30)
        for pid in seen:  # whatever an old `kofu up` left behind, by PID
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for up in ups:
            up.kill()
            up.wait()
            if up.stdout is not None:
                up.stdout.close()
