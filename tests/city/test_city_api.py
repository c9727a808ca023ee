"""``kofu serve city``: the city's HTTP API as a real process on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from services import running, seeded_city_home

CITY = "032051"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A seeded Hanamaki served alone; yields (base URL, a resident with a card record)."""
    home = tmp_path_factory.mktemp("home")
    holder = seeded_city_home(home, CITY, date(2026, 11, 24), "c0ffee")
    args = ["serve", "city", "--city", CITY, "--port", "0"]
    with running(args, home, "2026-11-24T12:00:00+09:00") as ready:
        assert ready["service"] == "city" and ready["name"] == "岩手県花巻市"
        yield ready["url"], holder.resident_code


def post(url: str, body: Any) -> httpx.Response:
    return httpx.post(url, json=body, timeout=30)


def test_register_reads(city: tuple[str, str]) -> None:
    base, holder = city
    assert httpx.get(f"{base}/health").json()["city"] == CITY
    rows = httpx.get(f"{base}/residents", params={"limit": 3}).json()
    assert len(rows) == 3 and set(rows[0]) >= {"resident_code", "name", "address", "status"}
    record = httpx.get(f"{base}/residents/{holder}").json()
    assert record["record"]["resident_code"] == holder and record["history"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/residents/12345678901", 422, "resident_code"),
        ("/residents/00000000000", 404, "resident"),
        ("/residents?limit=0", 422, "limit"),
    ],
)
def test_bad_reads_name_the_problem(
    city: tuple[str, str], path: str, status: int, field: str
) -> None:
    response = httpx.get(f"{city[0]}{path}")
    assert response.status_code == status
    assert response.json()["field"] == field


def test_counter_certificate(city: tuple[str, str]) -> None:
    base, holder = city
    response = post(f"{base}/certificates/counter", {"resident": holder, "type": "juminhyo"})
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF") and len(response.headers["X-Content-Digest"]) == 64
    bad = post(f"{base}/certificates/counter", {"resident": holder, "type": "passport"})
    assert bad.status_code == 422 and "unknown certificate type" in bad.json()["message"]


def test_store_certificate_server(city: tuple[str, str]) -> None:
    base, _ = city
    ok = post(
        f"{base}/certificates/store",
        {"request_id": "req-00000001", "auth_serial": "C0FFEE", "certificate": "juminhyo"},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["request_id"] == "req-00000001" and body["fee"] == 200
    assert len(body["holder_digest"]) == 64 and body["pdf_base64"]
    unknown = post(
        f"{base}/certificates/store",
        {"request_id": "req-00000002", "auth_serial": "beef", "certificate": "juminhyo"},
    )
    assert unknown.status_code == 403 and unknown.json()["reason"] == "card_unknown"
    assert unknown.json()["message_ja"]
    code = post(
        f"{base}/certificates/store",
        {
            "request_id": "req-00000003",
            "auth_serial": "c0ffee",
            "certificate": "juminhyo",
            "options": {"items": ["resident_code"]},
        },
    )
    assert code.status_code == 403 and code.json()["reason"] == "item_not_at_store"
    old = post(  # the names from before the contract (type, with) are refused, not dropped
        f"{base}/certificates/store",
        {"request_id": "req-00000004", "auth_serial": "c0ffee", "type": "juminhyo"},
    )
    assert old.status_code == 422 and "type" in old.text and "certificate" in old.text


def test_store_request_ids_are_kept(city: tuple[str, str]) -> None:
    base, _ = city
    body = {"request_id": "req-kept-000001", "auth_serial": "c0ffee", "certificate": "juminhyo"}
    first = post(f"{base}/certificates/store", body).json()
    again = post(f"{base}/certificates/store", body).json()
    assert again == first
    reused = post(f"{base}/certificates/store", body | {"certificate": "inkan"})
    assert reused.status_code == 409 and reused.json()["reason"] == "request_id_reused"
    told = httpx.get(f"{base}/certificates/store/req-kept-000001").json()
    assert told["state"] == "issued" and told["answer"] == first
    never = httpx.get(f"{base}/certificates/store/req-never-00001").json()
    assert never["state"] == "unknown"
    closed = httpx.post(f"{base}/certificates/store/req-never-00001/abandon").json()
    assert closed["state"] == "abandoned"
    late = post(f"{base}/certificates/store", body | {"request_id": "req-never-00001"})
    assert late.status_code == 403 and late.json()["reason"] == "request_abandoned"
    assert httpx.get(f"{base}/certificates/store/short").status_code == 422


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"kind": "death"}', b'[{"kind": "death", "resident": "1"}]'],
)
def test_bad_events_are_4xx(city: tuple[str, str], body: bytes) -> None:
    response = httpx.post(
        f"{city[0]}/events", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
