"""Over mutual TLS: only a supervisor resumes a city an alarm stopped, and it stays on record."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from center_world import CITY, center_for, make_world, stop_the_city
from test_callers import _client, _issued, _reader

from kofu.center.api.app import create_app
from kofu.contracts.kiosk import PrintJob
from kofu.core.errors import Refused
from kofu.core.link import Link
from kofu.core.network import client_context, network_identity
from kofu.kiosk.client import KioskClient
from services import KOFU, in_thread


@pytest.fixture
def stopped(tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    world = make_world(tmp_path)
    stop_the_city(world)
    with in_thread(create_app(center_for(world)), network_identity(tmp_path, "center")) as url:
        yield url, world


def _status(url: str, world: dict[str, Any]) -> dict[str, Any]:
    with _client(world, "operator") as operator:
        answer: dict[str, Any] = operator.get(f"{url}/status").json()
    return answer


def _resume(client: httpx.Client, url: str, **body: Any) -> httpx.Response:
    return client.post(f"{url}/alarms/{CITY}/resume", json={"request_id": "resume-000001"} | body)


@pytest.mark.parametrize(
    "name", ["operator", "operator-night", "kiosk-a", "operatorx", "operator-supervisorx"]
)
def test_only_a_supervisor_resumes_and_a_refusal_changes_nothing(
    stopped: tuple[str, dict[str, Any]], name: str
) -> None:
    url, world = stopped
    with _client(world, name) as other:
        refused = _resume(other, url, reason="connector fixed")
        assert refused.status_code == 403, refused.text
        assert refused.json()["reason"] == "caller_not_allowed"
        form = other.post(
            f"{url}/alarms/{CITY}/resume/form",
            data={"request_id": "resume-000002", "reason": "connector fixed"},
        )
        assert form.status_code == 403 and form.json()["reason"] == "caller_not_allowed"
    status = _status(url, world)
    assert status["stopped_cities"] == [CITY] and status["resumes"] == []


def test_a_supervisor_resumes_once_and_the_city_issues_again(
    stopped: tuple[str, dict[str, Any]],
) -> None:
    url, world = stopped
    with Link(client_context(network_identity(world["home"], "kiosk-a"))) as link:
        kiosk = KioskClient(url, link)
        with pytest.raises(Refused) as still:
            kiosk.call(
                "/issuances", _issued(kiosk.authenticate(_reader(world)), "store-a-1"), PrintJob
            )
        assert still.value.reason == "service_stopped"
        with _client(world, "operator-supervisor-yamada") as supervisor:
            missing = supervisor.post(
                f"{url}/alarms/{CITY}/resume", json={"request_id": "resume-1x"}
            )
            assert missing.status_code == 422 and missing.json()["field"] == "reason"
            blank = _resume(supervisor, url, reason="   ")
            assert blank.status_code == 422 and blank.json()["field"] == "reason"
            unknown = supervisor.post(
                f"{url}/alarms/999999/resume", json={"request_id": "resume-2x", "reason": "x"}
            )
            assert unknown.status_code == 404 and unknown.json()["field"] == "city"
            assert _status(url, world)["stopped_cities"] == [CITY]  # nothing changed
            done = _resume(supervisor, url, reason="connector fixed, checked with the city")
            assert done.status_code == 200, done.text
            resumed = done.json()
            assert resumed["operator"] == "operator-supervisor-yamada"
            assert (resumed["city"], resumed["reason"]) == (
                CITY,
                "connector fixed, checked with the city",
            )
            again = _resume(supervisor, url, reason="connector fixed, checked with the city")
            assert again.json() == resumed  # the same request id: the same resume
            twice = supervisor.post(
                f"{url}/alarms/{CITY}/resume", json={"request_id": "resume-3x", "reason": "x"}
            )
            assert twice.status_code == 409 and twice.json()["field"] == "city"
        status = _status(url, world)
        assert status["stopped_cities"] == [] and len(status["alarms"]) == 1
        assert [r | {"v": 1} for r in status["resumes"]] == [resumed]
        job = kiosk.call(
            "/issuances", _issued(kiosk.authenticate(_reader(world)), "store-a-2"), PrintJob
        )
        assert job.city == CITY


def test_a_form_from_another_site_is_refused(stopped: tuple[str, dict[str, Any]]) -> None:
    url, world = stopped
    with _client(world, "operator-supervisor") as supervisor:
        forged = supervisor.post(
            f"{url}/alarms/{CITY}/resume/form",
            data={"request_id": "resume-000009", "reason": "x"},
            headers={"Origin": "https://elsewhere.example"},
        )
        assert forged.status_code == 403 and forged.json()["reason"] == "cross_site_form"
    assert _status(url, world)["stopped_cities"] == [CITY]


def test_kofu_center_resume_asks_as_the_supervisor(stopped: tuple[str, dict[str, Any]]) -> None:
    url, world = stopped
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env["KOFU_HOME"] = str(world["home"])

    def kofu(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(KOFU), "center", "resume", "--city", CITY, "--center", url, *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    plain = kofu("--reason", "fixed", "--as", "operator", "--json")
    assert plain.returncode != 0 and json.loads(plain.stdout)["reason"] == "caller_not_allowed"
    done = kofu("--reason", "fixed at the city", "--json")
    assert done.returncode == 0, done.stderr
    resumed = json.loads(done.stdout)
    assert set(resumed) == {"request_id", "at", "city", "operator", "reason"}
    assert (resumed["city"], resumed["operator"], resumed["reason"]) == (
        CITY,
        "operator-supervisor",
        "fixed at the city",
    )
    assert (world["home"] / "network" / "operator-supervisor.pem").exists()
    assert _status(url, world)["stopped_cities"] == []
