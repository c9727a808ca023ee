"""The authority's and juki's links: one class on both sides, shown in OpenAPI, names kept."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import pytest
from contract_examples import _REPORT, call, check_published, named_fields
from fastapi import FastAPI
from sqlalchemy import create_engine

from kofu.center.adapters import links as center_links
from kofu.center.domain import ports as center_ports
from kofu.city.adapters import jpki_http, juki_http
from kofu.city.domain import juki_report, ports
from kofu.contracts import Contract
from kofu.contracts.jpki import (
    Cause,
    CertificateRequest,
    CertificatesIssued,
    CertificateStatus,
    RevocationRequest,
    Revoked,
)
from kofu.contracts.juki import IdentityReport, IdentityReports, JukiStore, ReportCounts
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.settings import Settings
from kofu.jpki.api.app import create_app as jpki_app
from kofu.jpki.bootstrap import build_jpki
from kofu.jpki.domain.revocation import RevocationCause
from kofu.juki.adapters.uow import juki_units
from kofu.juki.api.app import create_app as juki_app
from kofu.juki.domain.identity import RecordState
from kofu.juki.services.directory import JukiDirectory

NOON = FixedClock(datetime(2026, 11, 24, 12, 0, tzinfo=JST))


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    home = tmp_path_factory.mktemp("jpki")
    return jpki_app(build_jpki(Settings(home, None, ""), "http://127.0.0.1:8801", NOON))


@pytest.fixture
def juki(tmp_path: Path) -> FastAPI:
    return juki_app(
        JukiDirectory(juki_units(create_engine(f"sqlite:///{tmp_path / 'juki.sqlite'}")), NOON)
    )


def _ref(app: FastAPI, path: str, method: str, where: str) -> str:
    operation = app.openapi()["paths"][path][method]
    if where == "request":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return str(schema["$ref"]).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("party", "path", "method", "sent", "answered"),
    [
        ("authority", "/certificates", "post", CertificateRequest, CertificatesIssued),
        ("authority", "/revocations", "post", RevocationRequest, Revoked),
        ("authority", "/status/{serial}", "get", None, CertificateStatus),
        ("juki", "/identities", "post", IdentityReports, ReportCounts),
        ("juki", "/residents/{resident_code}", "get", None, IdentityReport),
        ("juki", "/store", "get", None, JukiStore),
    ],
)
def test_the_authority_and_juki_publish_their_contracts(
    request: pytest.FixtureRequest,
    party: str,
    path: str,
    method: str,
    sent: type[Contract] | None,
    answered: type[Contract],
) -> None:
    app: FastAPI = request.getfixturevalue(party)
    if sent is not None:
        assert _ref(app, path, method, "request") == sent.__name__
        check_published(app, sent, "validation")
    assert _ref(app, path, method, "answer") == answered.__name__
    check_published(app, answered, "serialization")


def test_both_sides_import_the_same_classes() -> None:
    """The city's and center's clients use the very classes the services read and answer."""
    assert jpki_http.CertificateRequest is CertificateRequest
    assert jpki_http.RevocationRequest is RevocationRequest
    assert center_links.CertificateStatus is CertificateStatus
    assert center_links.IdentityReport is IdentityReport
    assert juki_http.IdentityReports is IdentityReports and ports.IdentityReport is IdentityReport
    assert juki_report.IdentityReport is IdentityReport
    assert center_ports.IdentityReport is IdentityReport


def test_the_contracts_names_are_the_partys() -> None:
    assert set(get_args(Cause)) == {c.value for c in RevocationCause}
    assert set(get_args(IdentityReport.model_fields["state"].annotation)) == {
        s.value for s in RecordState
    }
    kinds = get_args(CertificateStatus.model_fields["kind"].annotation)[0]
    assert set(get_args(kinds)) == {k.value for k in CertKind}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"resident_code": "1234567890"}, "resident_code"),  # ten digits
        ({"version": "3"}, "version"),
        ({"state": "emigrated"}, "state"),
        ({"v": 2}, "v"),
    ],
)
def test_juki_refuses_a_malformed_record_naming_it(
    juki: FastAPI, change: dict[str, Any], field: str
) -> None:
    record = _REPORT.model_dump(mode="json") | change
    answer = call(juki, "POST", "/identities", {"city": _REPORT.city, "records": [record]})
    assert answer.status_code == 422
    assert {"records", "0", field} <= named_fields(answer)  # the record by its place, and the field


def test_juki_refuses_a_wrong_check_digit_naming_the_record(juki: FastAPI) -> None:
    """The contract says the shape; the check digit is juki's rule, named by the record's place."""
    record = _REPORT.model_dump(mode="json") | {"resident_code": "12345678900"}
    answer = call(juki, "POST", "/identities", {"city": _REPORT.city, "records": [record]})
    assert answer.status_code == 422 and "records" in named_fields(answer)
    assert "record 1" in answer.json()["message"] and "check digit" in answer.json()["message"]
