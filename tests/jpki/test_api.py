"""Bad input to the live authority's HTTP API: a 4xx JSON error naming the problem, never a 500.

Issuance, revocation and status are asked on the private listener as city
112186 (mutual TLS); CA certificates, CRLs and OCSP on the public one.

OCSP is the exception by design: a malformed request gets an OCSP response
(status malformedRequest) with HTTP 200, as RFC 6960 clients expect.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from jpki_support import CardKeys, Server, public_pem

from kofu.core.holder import holder_digest


@pytest.fixture
def http(jpki_server: Server) -> Iterator[httpx.Client]:
    """The public listener, plain HTTP: CA certificates, CRLs, OCSP."""
    with httpx.Client(base_url=jpki_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def city(jpki_server: Server) -> Iterator[httpx.Client]:
    """The private listener as city 112186 (mutual TLS, its LGWAN certificate)."""
    with jpki_server.client("city-112186") as client:
        yield client


def _body(keys: CardKeys, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "city": "112186",
        "resident_code": "12345678901",
        "card_id": f"API-{secrets.token_hex(6)}",
        "birth_date": "1990-05-10",
        "card_expiry": "2036-05-10",
        "auth_public_key_pem": public_pem(keys.auth),
        "sign_public_key_pem": public_pem(keys.sign),
        "facts": {
            "name": "深谷 花子",
            "sex": "2",
            "birth_date": "1990-05-10",
            "address": "埼玉県深谷市仲町11番1号",
        },
    }
    body.update(changes)
    return body


def _names(answer: httpx.Response, field: str) -> None:
    """A 4xx JSON answer that names ``field``: kofu's error, or FastAPI's validation detail."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    error = answer.json()
    if "detail" in error:  # FastAPI's request validation
        locations = [".".join(map(str, d["loc"])) for d in error["detail"]]
        assert any(field in loc for loc in locations), error
        assert all(d["msg"] for d in error["detail"])
    else:
        assert error["field"] == field, error
        assert error["message"], error
        assert error["error"] in {"InvalidInput", "NotFound", "Conflict"}, error


def _ocsp_status(answer: httpx.Response) -> ocsp.OCSPResponseStatus:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(answer.content).response_status


# --- OCSP -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"not an OCSP request", b"\x30\x03\x02\x01\x01", b"\x30\x82\xff\xff" + b"\x00" * 64],
    ids=["empty", "text", "wrong-tag", "truncated"],
)
def test_malformed_ocsp_post(http: httpx.Client, body: bytes) -> None:
    for kind in ("sign", "auth"):
        answer = http.post(
            f"/ocsp/{kind}", content=body, headers={"content-type": "application/ocsp-request"}
        )
        assert _ocsp_status(answer) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.parametrize(
    "encoded",
    ["!!!notbase64", "YWJj", base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "a/b/c"],
    ids=["bad-base64", "not-der", "wrong-tag", "slashes"],
)
def test_malformed_ocsp_get(http: httpx.Client, encoded: str) -> None:
    answer = http.get(f"/ocsp/auth/{encoded}")
    assert _ocsp_status(answer) is ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_ocsp_unknown_kind(http: httpx.Client) -> None:
    _names(http.post("/ocsp/xyz", content=b"\x30\x00"), "kind")


# --- CA certificates and CRLs ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["xyz", "ROOT", "sign.der", "..%2Froot"])
def test_unknown_ca(http: httpx.Client, name: str) -> None:
    answer = http.get(f"/ca/{name}.der")
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json"), answer.text
    assert answer.json()


def test_unknown_ca_names_the_problem(http: httpx.Client) -> None:
    answer = http.get("/ca/xyz.der")
    _names(answer, "ca")
    assert "xyz" in answer.json()["message"]


def test_unknown_crl(http: httpx.Client) -> None:
    _names(http.get("/crl/xyz.crl"), "kind")


# --- issuance -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["empty", "text", "bad-base64-body", "wrong-label"],
)
def test_bad_pem_public_key(city: httpx.Client, card_keys: CardKeys, pem: str) -> None:
    answer = city.post("/certificates", json=_body(card_keys, auth_public_key_pem=pem))
    assert answer.status_code == 422, answer.text
    _names(answer, "public_key")


def test_bad_sign_pem_public_key(city: httpx.Client, card_keys: CardKeys) -> None:
    answer = city.post("/certificates", json=_body(card_keys, sign_public_key_pem="garbage"))
    assert answer.status_code == 422, answer.text
    _names(answer, "public_key")


def test_not_an_rsa_key(city: httpx.Client, card_keys: CardKeys) -> None:
    ec_pem = public_pem(ec.generate_private_key(ec.SECP256R1()))
    answer = city.post("/certificates", json=_body(card_keys, auth_public_key_pem=ec_pem))
    assert answer.status_code == 422, answer.text
    _names(answer, "public_key")


def test_rsa_key_of_the_wrong_size(
    city: httpx.Client, card_keys: CardKeys, small_key: rsa.RSAPrivateKey
) -> None:
    for field in ("auth_public_key_pem", "sign_public_key_pem"):
        answer = city.post("/certificates", json=_body(card_keys, **{field: public_pem(small_key)}))
        assert answer.status_code == 422, answer.text
        _names(answer, "public_key")
        assert "2048" in answer.json()["message"]


def test_signature_key_without_facts(city: httpx.Client, card_keys: CardKeys) -> None:
    answer = city.post("/certificates", json=_body(card_keys, facts=None))
    assert answer.status_code == 422, answer.text
    _names(answer, "facts")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"birth_date": "1990-13-01"}, "birth_date"),
        ({"birth_date": "yesterday"}, "birth_date"),
        ({"card_expiry": "2036/05/10"}, "card_expiry"),
        (
            {"facts": {"name": "x", "sex": "2", "birth_date": "1990-5-1x", "address": "y"}},
            "facts.birth_date",
        ),
        ({"facts": {"name": "x"}}, "facts"),
        ({"city": None}, "city"),
        ({"auth_public_key_pem": 5}, "auth_public_key_pem"),
    ],
)
def test_bad_issue_fields(
    city: httpx.Client, card_keys: CardKeys, changes: dict[str, Any], field: str
) -> None:
    _names(city.post("/certificates", json=_body(card_keys, **changes)), field)


def test_missing_field(city: httpx.Client, card_keys: CardKeys) -> None:
    body = _body(card_keys)
    del body["card_id"]
    _names(city.post("/certificates", json=body), "card_id")


def test_not_json(city: httpx.Client) -> None:
    answer = city.post(
        "/certificates", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]


def test_card_already_expired(city: httpx.Client, card_keys: CardKeys) -> None:
    answer = city.post("/certificates", json=_body(card_keys, card_expiry="2001-01-01"))
    assert answer.status_code == 422, answer.text
    _names(answer, "card_expiry")


@pytest.mark.parametrize(
    ("field", "value"),
    [("card_id", "C" * 33), ("city", "1121860"), ("resident_code", "1" * 12)],
)
def test_too_long_identifiers(
    city: httpx.Client, card_keys: CardKeys, field: str, value: str
) -> None:
    """Longer than the register's columns: refused on every backend, not a database error."""
    _names(city.post("/certificates", json=_body(card_keys, **{field: value})), field)


def test_child_without_signature_certificate(city: httpx.Client, card_keys: CardKeys) -> None:
    answer = city.post(
        "/certificates",
        json=_body(
            card_keys,
            birth_date="2016-07-01",
            card_expiry="2031-07-01",
            sign_public_key_pem=None,
            facts=None,
        ),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["sign_pem"] is None and body["sign_serial"] is None
    assert body["auth_pem"].startswith("-----BEGIN CERTIFICATE-----")


# --- revocation and status ------------------------------------------------------------------


@pytest.mark.parametrize("cause", ["", "lost", "MOVE", 3, None])
def test_bad_cause(city: httpx.Client, card_keys: CardKeys, cause: object) -> None:
    card_id = _body(card_keys)["card_id"]
    answer = city.post("/revocations", json={"card_id": card_id, "cause": cause})
    assert answer.status_code == 422, answer.text
    _names(answer, "cause")


def test_revocation_without_card(city: httpx.Client) -> None:
    _names(city.post("/revocations", json={"cause": "death"}), "card_id")


def test_unknown_card(city: httpx.Client) -> None:
    answer = city.post("/revocations", json={"card_id": "NO-SUCH-CARD", "cause": "death"})
    assert answer.status_code == 404, answer.text
    _names(answer, "card_id")


@pytest.mark.parametrize("serial", ["zz", "12g4", "0x", "-", "1.5"])
def test_bad_serial(city: httpx.Client, serial: str) -> None:
    answer = city.get(f"/status/{serial}")
    assert answer.status_code == 422, answer.text
    _names(answer, "serial")


def test_status_follows_revocation(city: httpx.Client, card_keys: CardKeys) -> None:
    body = _body(card_keys)
    issued = city.post("/certificates", json=body)
    assert issued.status_code == 200, issued.text
    pair = issued.json()
    for kind in ("sign", "auth"):
        status = city.get(f"/status/{pair[f'{kind}_serial']}").json()
        assert {k: status[k] for k in ("serial", "status", "cause", "kind", "city")} == {
            "serial": pair[f"{kind}_serial"],
            "status": "good",
            "cause": None,
            "kind": kind,
            "city": body["city"],
        }
        assert status["holder_digest"] == holder_digest(body["city"], body["resident_code"])
    revoked = city.post("/revocations", json={"card_id": body["card_id"], "cause": "move"})
    assert revoked.json() == {"v": 1, "revoked": [pair["sign_serial"]]}
    assert city.get(f"/status/{pair['sign_serial']}").json()["cause"] == "move"
    assert city.get(f"/status/{pair['auth_serial']}").json()["status"] == "good"
    again = city.post("/revocations", json={"card_id": body["card_id"], "cause": "move"})
    assert again.json() == {"v": 1, "revoked": []}
    # upper-case hex is the same serial
    upper = city.get(f"/status/{pair['sign_serial'].upper()}").json()
    assert upper["status"] == "revoked"


def test_status_of_unknown_serial(city: httpx.Client) -> None:
    answer = city.get("/status/1234")
    assert answer.status_code == 200
    assert answer.json() == {
        "v": 1,
        "serial": "1234",
        "status": "unknown",
        "cause": None,
        "city": None,
        "kind": None,
        "resident_code": None,
        "holder_digest": None,
    }
