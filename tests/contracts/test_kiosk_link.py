"""kiosk ↔ center: the center's door shows the contracts; the kiosk sends only those."""

from __future__ import annotations

from typing import Any

import pytest
from contract_examples import call, check_published, named_fields
from fastapi import FastAPI

from apps import party_apps
from kofu.contracts import Contract
from kofu.contracts.identity import DomicileAnswer
from kofu.contracts.kiosk import (
    ConnectedCity,
    DomicileRequest,
    IssuanceRequest,
    PrintJob,
    PrintSettled,
    SessionOpened,
    SignedIn,
    SignIn,
    VoidRequest,
)
from kofu.contracts.store import IssueOptions
from kofu.core.errors import InvalidInput
from kofu.kiosk import client as kiosk_client


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return party_apps(tmp_path_factory.mktemp("parties"))["center"]


def _schema_ref(schema: dict[str, Any]) -> str:
    inner = schema.get("items", schema)  # a list answers its items' model
    return str(inner["$ref"]).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("path", "method", "sent", "answered"),
    [
        ("/sessions", "post", None, SessionOpened),
        ("/sessions/{session}/authenticate", "post", SignIn, SignedIn),
        ("/issuances", "post", IssuanceRequest, PrintJob),
        ("/issuances/{request_id}/printed", "post", None, PrintSettled),
        ("/issuances/{request_id}/voided", "post", VoidRequest, PrintSettled),
        ("/cities", "get", None, ConnectedCity),
        ("/domicile-registrations", "post", DomicileRequest, DomicileAnswer),
    ],
)
def test_the_center_publishes_the_kiosks_contracts(
    center: FastAPI,
    path: str,
    method: str,
    sent: type[Contract] | None,
    answered: type[Contract],
) -> None:
    operation = center.openapi()["paths"][path][method]
    if sent is not None:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert _schema_ref(body) == sent.__name__
        check_published(center, sent, "validation")
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert _schema_ref(answer) == answered.__name__
    check_published(center, answered, "serialization")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"with": ["head"]}, "with"),  # the kiosk's name from before the contract
        ({"year": 2025}, "year"),
        ({"items": ["blood_type"]}, "items"),
        ({"fiscal_year": "2025"}, "fiscal_year"),
    ],
)
def test_the_center_refuses_options_by_another_name(
    center: FastAPI, options: dict[str, Any], field: str
) -> None:
    body = {
        "session": "s-1",
        "request_id": "kiosk-000000001",
        "certificate": "juminhyo",
        "options": options,
        "store": "7-0001",
        "chain": "seven",
    }
    answer = call(center, "POST", "/issuances", body)
    assert answer.status_code == 422 and {"options", field} <= named_fields(answer)


def test_the_kiosk_sends_the_class_the_center_reads() -> None:
    assert kiosk_client.IssuanceRequest is IssuanceRequest
    assert kiosk_client.PrintJob is PrintJob and kiosk_client.SignIn is SignIn
    assert IssuanceRequest.model_fields["options"].annotation is IssueOptions


def test_the_kiosk_refuses_an_option_before_sending_it() -> None:
    """A wrong option is the kiosk's own 422 naming it: nothing goes on the line."""
    client = kiosk_client.KioskClient("https://127.0.0.1:9", http=None, ledger=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as info:
        client.request("s-1", "kiosk-000000001", "juminhyo", {"with": ["head"]}, 1, "s", "c")
    assert info.value.field == "options.with"
