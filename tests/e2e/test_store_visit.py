"""A resident at a store, end to end: real processes on 127.0.0.1, mutual TLS, a real card file.

jpki, one city and the center run as `kofu serve ...`; the card is issued
at the city's desk by `kofu card issue`; `kofu kiosk` prints; `kofu verify`
checks the print.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from conftest_e2e import kofu_cli as _kofu

from kofu.core.network import client_context, network_identity

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"  # a Tuesday noon


def _kiosk(system: dict[str, str], out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _kofu(
        Path(system["home"]),
        "kiosk",
        "--card",
        system["card"],
        "--type",
        "juminhyo",
        "--out",
        str(out),
        "--json",
        *args,
        KOFU_CENTER_URL=system["center"],
    )


def test_a_resident_prints_a_residence_certificate(system: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "printed.pdf"
    done = _kiosk(system, out, "--pin", "1234", "--copies", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["fee"] == 400 and summary["city"] == CITY
    verified = _kofu(Path(system["home"]), "verify", str(out), "--json")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["holder_name"] == system["name"]
    home = Path(system["home"])
    with httpx.Client(verify=client_context(network_identity(home, "operator"))) as client:
        month = client.get(f"{system['center']}/settlement", params={"month": "2026-11"}).json()
    assert month["rows"][0]["fees"] >= 400


def test_refusals_reach_the_resident_in_words(system: dict[str, str], tmp_path: Path) -> None:
    wrong = _kiosk(system, tmp_path / "a.pdf", "--pin", "0000")
    assert wrong.returncode != 0 and "2 tries left" in wrong.stderr
    again = _kiosk(system, tmp_path / "a.pdf", "--pin", "0000")
    assert again.returncode != 0 and "1 try left" in again.stderr
    right = _kiosk(system, tmp_path / "c.pdf", "--pin", "1234")  # a success resets the counter
    assert right.returncode == 0, right.stderr
    item = _kiosk(system, tmp_path / "b.pdf", "--pin", "1234", "--with", "resident_code")
    assert item.returncode != 0 and "never printed at a store" in item.stderr
    assert not (tmp_path / "a.pdf").exists() and not (tmp_path / "b.pdf").exists()


def test_the_center_refuses_a_client_without_a_network_certificate(system: dict[str, str]) -> None:
    ca = Path(system["home"]) / "network" / "ca.pem"
    import ssl

    with (
        httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as client,
        pytest.raises(httpx.TransportError),
    ):
        client.post(f"{system['center']}/sessions")
