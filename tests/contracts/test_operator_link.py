"""operator ↔ center: the books and the watch are contracts, shown in the center's OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from contract_examples import call, check_published, named_fields
from fastapi import FastAPI

from apps import party_apps
from kofu.contracts import Contract
from kofu.contracts.operator import CenterStatus, IssuanceLog, Settlement


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return party_apps(tmp_path_factory.mktemp("parties"))["center"]


@pytest.mark.parametrize(
    ("path", "answered"),
    [("/settlement", Settlement), ("/status", CenterStatus), ("/log", IssuanceLog)],
)
def test_the_center_publishes_the_operators_contracts(
    center: FastAPI, path: str, answered: type[Contract]
) -> None:
    answer = center.openapi()["paths"][path]["get"]["responses"]["200"]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    assert schema["$ref"].rsplit("/", 1)[-1] == answered.__name__
    check_published(center, answered, "serialization")


def test_the_answers_are_the_contracts(center: FastAPI) -> None:
    month = call(center, "GET", "/settlement?month=2026-11")
    assert Settlement.model_validate(month.json()) == Settlement(month="2026-11", rows=())
    status = CenterStatus.model_validate(call(center, "GET", "/status").json())
    assert status.alarms == () and status.print_timeout_seconds == 300


def test_a_month_not_yyyy_mm_is_a_422_naming_it(center: FastAPI) -> None:
    answer = call(center, "GET", "/settlement?month=November")
    assert answer.status_code == 422 and "month" in named_fields(answer)


def test_a_reader_refuses_an_answer_of_another_shape() -> None:
    with pytest.raises(LookupError):
        Settlement.read({"month": "2026-11", "rows": [{"city": "032051"}]}, LookupError())
    with pytest.raises(LookupError):
        Settlement.read({"month": "2026-11", "rows": [], "total": 0}, LookupError())


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=charged", "state"),
        ("limit=0", "limit"),
        ("since=2026-11-24T12:00", "since"),  # no offset: which noon?
        ("since=2026-11-24T12:00%2B09:00&until=2026-11-24T11:00%2B09:00", "since"),
        ("until=noon", "until"),
        ("until=9999-12-31T23:59:59-12:00", "until"),
        ("since=0001-01-01T00:00:00%2B14:00", "since"),
    ],
)
def test_a_log_search_out_of_shape_is_a_422_naming_it(
    center: FastAPI, query: str, field: str
) -> None:
    answer = call(center, "GET", f"/log?{query}")
    assert answer.status_code == 422 and field in named_fields(answer)


def test_the_log_answers_the_contract(center: FastAPI) -> None:
    answer = call(center, "GET", "/log?state=printed&city=032051&limit=5")
    assert IssuanceLog.model_validate(answer.json()) == IssuanceLog(entries=())
