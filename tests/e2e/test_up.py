"""`kofu up`: the whole system from one command; a second start reuses it; SIGTERM or Ctrl-C
stops every service."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

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
        assert all(_port_open(u) for u in [*urls, ready["jpki_private"]])
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
    assert not any(_port_open(u) for u in urls)  # every service stopped with it
    with running(["up", "--residents", "1500"], home, NOW, ctrl_c=True) as again:  # reuses data
        assert again["cards"][1]["file"] == card["file"]
        assert again["cards"][2]["domicile"] == domiciled["domicile"]
        urls = [again["jpki"], again["juki"], again["center"], *again["cities"].values()]
        assert all(_port_open(u) for u in urls)
    assert not any(_port_open(u) for u in urls)  # Ctrl-C stopped every service too
