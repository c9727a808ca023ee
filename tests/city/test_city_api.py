"""``kofu serve city``: the city's HTTP API as a real process on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.card_desk import CardRecord
from kofu.city.services.seeding import seed_city
from kofu.core.db import make_engine, migrate

CITY = "032051"
KOFU = Path(sys.executable).with_name("kofu")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A seeded Hanamaki served alone; yields (base URL, a resident with a card record)."""
    home = tmp_path_factory.mktemp("home")
    engine = make_engine(f"sqlite:///{home / f'city_{CITY}.sqlite'}")
    migrate(engine, "city")
    seed_city(engine=engine, code=CITY, residents=200, seed=3, today=date(2026, 11, 24))
    with CityUnitOfWork(engine, today=date(2026, 11, 24)) as uow:
        holder = uow.registers.sample_holder()
        assert holder is not None
        uow.cards.save_card(
            CardRecord(
                card_id="032051-20260101-0001",
                resident_code=holder.resident_code,
                application_id="A1",
                issued_on=date(2026, 1, 1),
                expires_on=date(2036, 1, 1),
                auth_serial="c0ffee",
                certificates_expire_on=date(2031, 1, 1),
                issuer_secret="00" * 32,
            )
        )
        uow.commit()
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env |= {"KOFU_HOME": str(home), "KOFU_NOW": "2026-11-24T12:00:00+09:00"}
    proc = subprocess.Popen(
        [str(KOFU), "serve", "city", "--city", CITY, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["service"] == "city" and ready["name"] == "岩手県花巻市"
        yield ready["url"], holder.resident_code
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


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
        {"request_id": "req-00000001", "auth_serial": "C0FFEE", "type": "juminhyo"},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["request_id"] == "req-00000001" and body["fee"] == 200
    assert len(body["holder_digest"]) == 64 and body["pdf_base64"]
    unknown = post(
        f"{base}/certificates/store",
        {"request_id": "req-00000002", "auth_serial": "beef", "type": "juminhyo"},
    )
    assert unknown.status_code == 403 and unknown.json()["reason"] == "card_unknown"
    assert unknown.json()["message_ja"]
    code = post(
        f"{base}/certificates/store",
        {
            "request_id": "req-00000003",
            "auth_serial": "c0ffee",
            "type": "juminhyo",
            "with": ["resident_code"],
        },
    )
    assert code.status_code == 403 and code.json()["reason"] == "item_not_at_store"


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"kind": "death"}', b'[{"kind": "death", "resident": "1"}]'],
)
def test_bad_events_are_4xx(city: tuple[str, str], body: bytes) -> None:
    response = httpx.post(
        f"{city[0]}/events", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text
