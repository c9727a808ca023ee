"""center ↔ city 本人確認情報 and 本籍地利用登録: one class on both sides, shown in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from contract_examples import call, check_published, named_fields
from fastapi import FastAPI
from sqlalchemy import create_engine

from kofu.center.domain import ports as center_ports
from kofu.city.api.app import create_app
from kofu.city.domain.store_rules import StoreRules
from kofu.contracts import Contract
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.core.clock import JST, FixedClock


@pytest.fixture
def city_app(tmp_path: Path) -> FastAPI:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    clock = FixedClock(datetime(2026, 11, 24, tzinfo=JST))
    return create_app(engine, "112186", clock, StoreRules())


@pytest.mark.parametrize(
    ("path", "request_model", "answer_model"),
    [
        ("/identity", IdentityRequest, Identity),
        ("/domicile-registrations", DomicileApplication, DomicileAnswer),
    ],
)
def test_the_city_publishes_the_contracts(
    city_app: FastAPI, path: str, request_model: type[Contract], answer_model: type[Contract]
) -> None:
    check_published(city_app, request_model, "validation")
    check_published(city_app, answer_model, "serialization")
    post = city_app.openapi()["paths"][path]["post"]
    sent = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    answered = post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert sent.endswith(f"/{request_model.__name__}")
    assert answered.endswith(f"/{answer_model.__name__}")


def test_the_center_asks_with_the_class_the_city_reads() -> None:
    assert center_ports.IdentityRequest is IdentityRequest
    assert center_ports.DomicileApplication is DomicileApplication
    assert center_ports.Identity is Identity and center_ports.DomicileAnswer is DomicileAnswer


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sex": "x"}, "sex"),
        ({"birth_date": 19800401}, "birth_date"),
        ({"name": ["山田"]}, "name"),
        ({"auth_serial": "not-hex"}, "auth_serial"),
        ({"resident_code": "12345678901"}, "resident_code"),  # a person is never named
    ],
)
def test_the_city_refuses_a_malformed_application_naming_the_field(
    city_app: FastAPI, body: dict[str, Any], field: str
) -> None:
    sent = {
        "auth_serial": "c0ffee",
        "domicile": "岩手県花巻市花城町９番地",
        "head_name": "山田　一郎",
        "name": "山田　太郎",
        "birth_date": "1980-04-01",
        "sex": "male",
    } | body
    answer = call(city_app, "POST", "/domicile-registrations", sent)
    assert answer.status_code == 422
    assert field in named_fields(answer)


def test_the_city_refuses_an_identity_request_naming_anyone(city_app: FastAPI) -> None:
    answer = call(
        city_app, "POST", "/identity", {"auth_serial": "c0ffee", "resident_code": "12345678901"}
    )
    assert answer.status_code == 422 and "resident_code" in answer.text
