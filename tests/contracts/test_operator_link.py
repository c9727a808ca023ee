"""operator ↔ center: the books and the watch are contracts, shown in the center's OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest
from contract_examples import call, check_published, named_fields
from fastapi import FastAPI

from apps import party_apps
from kofu.contracts import Contract
from kofu.contracts.operator import CenterStatus, Settlement


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return party_apps(tmp_path_factory.mktemp("parties"))["center"]


@pytest.mark.parametrize(
    ("path", "answered"), [("/settlement", Settlement), ("/status", CenterStatus)]
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
