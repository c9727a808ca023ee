"""center ↔ city store issuance: one class on both sides, and the city's door keeps it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from contract_examples import call, check_published, named_fields
from fastapi import FastAPI
from sqlalchemy import create_engine

from kofu.center.domain import ports as center_ports
from kofu.city.api.app import create_app
from kofu.city.domain.certificates import COUNTER_ONLY, CertificateType, Item
from kofu.city.domain.store_rules import StoreRules
from kofu.contracts import Contract
from kofu.contracts.store import (
    Certificate,
    CityHealth,
    IssueOptions,
    StoreAnswer,
    StoreOutcome,
    StoreRequest,
)
from kofu.contracts.store import Item as ItemName
from kofu.core.clock import JST, FixedClock


@pytest.fixture
def city_app(tmp_path: Path) -> FastAPI:
    """The city's app over an empty store: what is tested here is refused before any read."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    return create_app(
        engine, "112186", FixedClock(datetime(2026, 11, 24, tzinfo=JST)), StoreRules()
    )


@pytest.mark.parametrize(
    ("model", "mode"),
    [
        (StoreRequest, "validation"),
        (StoreAnswer, "serialization"),
        (StoreOutcome, "serialization"),
        (CityHealth, "serialization"),
    ],
)
def test_the_city_publishes_the_contracts_schema(
    city_app: FastAPI, model: type[Contract], mode: str
) -> None:
    check_published(city_app, model, mode)


def test_the_store_paths_name_the_contracts(city_app: FastAPI) -> None:
    paths = city_app.openapi()["paths"]
    post = paths["/certificates/store"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StoreRequest"
    )
    assert post["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/StoreAnswer"
    )
    for path, method in [
        ("/certificates/store/{request_id}", "get"),
        ("/certificates/store/{request_id}/abandon", "post"),
    ]:
        answer = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["$ref"].endswith("/StoreOutcome")


def test_the_center_sends_the_class_the_city_reads() -> None:
    """Both sides import one class: the center's link protocol names the city's request model."""
    hints = center_ports.CityLink.issue.__annotations__
    assert hints["request"] in ("StoreRequest", StoreRequest)
    assert center_ports.StoreRequest is StoreRequest and center_ports.StoreAnswer is StoreAnswer


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "juminhyo"}, "type"),  # the name from before the contract
        ({"certificate": "juminhyo", "with": ["head"]}, "with"),
        ({"certificate": "juminhyo", "options": {"year": 2025}}, "year"),
        ({"certificate": "passport"}, "certificate"),
        ({"certificate": "kazei", "options": {"fiscal_year": "2025"}}, "fiscal_year"),
        ({"certificate": "juminhyo", "route": "abroad"}, "route"),
        ({"certificate": "juminhyo", "v": 2}, "v"),
    ],
)
def test_the_city_refuses_a_malformed_store_request_naming_the_field(
    city_app: FastAPI, body: dict[str, Any], field: str
) -> None:
    sent = {"request_id": "req-00000001", "auth_serial": "c0ffee"} | body
    answer = call(city_app, "POST", "/certificates/store", sent)
    assert answer.status_code == 422
    assert field in named_fields(answer)


def test_the_contracts_names_are_the_citys() -> None:
    """The certificate and item names on the wire are the city's own, all but the counter's."""
    store_types = {t.value for t in CertificateType if t not in COUNTER_ONLY}
    assert set(get_args(Certificate)) == store_types
    assert set(get_args(ItemName)) == {i.value for i in Item}
    assert IssueOptions().members == ()
