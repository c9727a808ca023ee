"""juki and a city as real processes over mutual TLS: the city reports, juki answers."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.juki_report import identity_report
from kofu.core.db import make_engine
from kofu.core.identifiers import resident_code_check_digit
from kofu.core.network import client_context, network_identity
from services import running, seeded_city_home

CITY = "032051"
NOW = "2026-11-24T12:00:00+09:00"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("home")
    holder = seeded_city_home(home, CITY, date(2026, 11, 24), "c0ffee")
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    with CityUnitOfWork(engine) as uow:
        rows = uow.registers.count_residents()
    engine.dispose()
    with running(["serve", "juki", "--workers", "2"], home, NOW) as juki:
        args = ["serve", "city", "--city", CITY, "--mtls", "--juki", juki["url"], "--workers", "2"]
        with running(args, home, NOW):
            center = client_context(network_identity(home, "center", "lgwan"))
            with httpx.Client(verify=center, timeout=10) as client:
                yield {
                    "url": juki["url"],
                    "home": home,
                    "rows": rows,
                    "holder": holder,
                    "client": client,
                }


def _held(client: httpx.Client, url: str, rows: int) -> int:
    """juki's record count once it reaches ``rows`` (the city reports every 2 s), or at 60 s."""
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline:
        count = int(client.get(f"{url}/health").json()["records"])
        if count >= rows:
            break
        time.sleep(0.5)
    return count


def test_the_city_reports_every_record_and_juki_names_the_city(served: dict[str, Any]) -> None:
    client, url = served["client"], served["url"]
    assert _held(client, url, served["rows"]) == served["rows"]  # each once, two workers or not
    answer = client.get(f"{url}/residents/{served['holder'].resident_code}").json()
    assert (answer["city"], answer["state"]) == (CITY, "resident")
    assert answer["name"] == served["holder"].name


def test_unknown_and_malformed_questions_get_named_errors(served: dict[str, Any]) -> None:
    client, url = served["client"], served["url"]
    nobody = "0000000001" + str(resident_code_check_digit("0000000001"))
    unknown = client.get(f"{url}/residents/{nobody}")
    assert unknown.status_code == 404 and "no city has reported" in unknown.json()["message"]
    malformed = client.get(f"{url}/residents/12345")
    assert malformed.status_code == 422 and "resident code" in malformed.json()["message"]
    city = client_context(network_identity(served["home"], f"city-{CITY}", "lgwan"))
    with httpx.Client(verify=city, timeout=10) as as_city:
        bad = as_city.post(f"{url}/identities", json={"city": CITY, "records": [{"name": "x"}]})
        assert bad.status_code == 422 and "records" in bad.text and "resident_code" in bad.text
        assert as_city.post(f"{url}/identities", content=b"not json").status_code == 422


def test_only_the_city_itself_may_report_its_records(served: dict[str, Any]) -> None:
    """Another city's (or the center's) network certificate cannot move a person on juki."""
    url, holder = served["url"], served["holder"]
    client = served["client"]
    assert _held(client, url, served["rows"]) == served["rows"]
    before = client.get(f"{url}/residents/{holder.resident_code}").json()
    moved = (
        identity_report(holder, CITY, 99)
        .model_copy(update={"state": "moved_out", "since": date(2026, 11, 24)})
        .model_dump(mode="json")
    )
    for name in ("city-112186", "center"):
        other = client_context(network_identity(served["home"], name, "lgwan"))
        with httpx.Client(verify=other, timeout=10) as impostor:
            answer = impostor.post(f"{url}/identities", json={"city": CITY, "records": [moved]})
        assert answer.status_code == 403, answer.text
        assert answer.json()["reason"] == "caller_not_allowed"
        assert f"only city-{CITY} may report" in answer.json()["message"]
        assert name in answer.json()["message"]
    assert client.get(f"{url}/residents/{holder.resident_code}").json() == before
    assert int(client.get(f"{url}/health").json()["records"]) == served["rows"]


def test_a_client_without_a_network_certificate_is_refused(served: dict[str, Any]) -> None:
    anonymous = ssl.create_default_context(
        cafile=str(served["home"] / "network" / "lgwan" / "ca.pem")
    )
    with httpx.Client(verify=anonymous) as client, pytest.raises(httpx.TransportError):
        client.get(f"{served['url']}/health")


def test_a_kiosk_certificate_is_refused(served: dict[str, Any]) -> None:
    """juki is on LGWAN: a store-network certificate never gets in."""
    kiosk = client_context(network_identity(served["home"], "kiosk-7"))
    kiosk.load_verify_locations(str(served["home"] / "network" / "lgwan" / "ca.pem"))
    with httpx.Client(verify=kiosk) as client, pytest.raises(httpx.TransportError):
        client.get(f"{served['url']}/residents/{served['holder'].resident_code}")
