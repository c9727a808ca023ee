"""Every service answers bad client input with a small 4xx naming the problem, never a 5xx.

The attacks: a lone surrogate or NUL in a JSON body (escaped, as JSON
allows), megabytes of body with or without a declared length, megabytes of
input to a field that refuses it (once echoed back whole), and integers past
what a store can hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.x509 import ocsp
from fastapi import FastAPI

from apps import PARTIES, calling, chunks, party_apps
from kofu.core.guard import MiB
from kofu.core.http import safe_text
from services import running

Call = Callable[..., httpx.Response]

# (path, JSON body as text with {} where the attack text goes, the field it lands in)
POSTS = {
    "city": ("/certificates/counter", '{{"resident": {}, "type": "juminhyo"}}', "resident"),
    "center": (
        "/domicile-registrations",
        '{{"session": "s", "city": "032051", "domicile": {}, "head_name": "筆頭"}}',
        "domicile",
    ),
    "jpki": ("/revocations", '{{"card_id": {}, "cause": "lost"}}', "card_id"),
    "juki": ("/identities", '{{"city": {}, "records": []}}', "city"),
}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return party_apps(tmp_path_factory.mktemp("parties"))


@pytest.fixture(params=PARTIES)
def party(request: pytest.FixtureRequest, apps: dict[str, FastAPI]) -> tuple[str, Call]:
    return request.param, calling(apps[request.param])


def post(call: Call, party: str, text: str, **options: object) -> httpx.Response:
    path, template, _ = POSTS[party]
    return call("POST", path, content=template.format(text).encode(), headers=JSON, **options)


def small_json_error(response: httpx.Response, status: int, limit: int = 4096) -> dict[str, str]:
    """The answer is ``status``, kofu's JSON error, valid UTF-8 and at most ``limit`` bytes."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    assert len(response.content) <= limit, len(response.content)
    error = json.loads(response.content.decode("utf-8"))
    assert error["error"] and error["message"], error
    return dict(error)


@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\ud83d", "\\u0000", "x\\u0000y"])
def test_unstorable_text_is_refused_naming_the_field(party: tuple[str, Call], escape: str) -> None:
    name, call = party
    error = small_json_error(post(call, name, f'"{escape}"'), 422)
    assert error["field"] == POSTS[name][2] and error["reason"] == "unstorable_text"


def test_a_surrogate_pair_is_text_like_any_other(party: tuple[str, Call]) -> None:
    """An emoji escaped as JSON allows (a valid pair) gets past the guard to the app's own rules."""
    name, call = party
    response = post(call, name, '"\\ud83d\\ude00"')
    assert response.status_code < 500, response.text
    assert response.json().get("reason") != "unstorable_text"


def test_unstorable_text_deep_in_a_body_is_named_by_its_path(apps: dict[str, FastAPI]) -> None:
    call = calling(apps["juki"])
    body = b'{"city": "032051", "records": [{}, {"name": "\\u0000"}]}'
    error = small_json_error(call("POST", "/identities", content=body, headers=JSON), 422)
    assert error["field"] == "records[1].name"


def test_nul_in_a_path_or_query_is_refused(apps: dict[str, FastAPI]) -> None:
    error = small_json_error(calling(apps["center"])("POST", "/issuances/req%00x/printed"), 422)
    assert error["field"] == "path"
    error = small_json_error(calling(apps["center"])("GET", "/settlement?month=2026-11%00"), 422)
    assert error["field"] == "query"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_413(party: tuple[str, Call], declared: bool) -> None:
    name, call = party
    path, template, _ = POSTS[name]
    body = template.format(json.dumps("x" * 10_000_000)).encode()
    content = body if declared else chunks(body)
    error = small_json_error(call("POST", path, content=content, headers=JSON), 413, 1024)
    limit = 8 * MiB if name == "juki" else MiB  # juki takes a city's whole report
    assert error["reason"] == "body_too_large" and error["limit"] == limit  # type: ignore[comparison-overlap]


def test_juki_takes_a_full_batch_of_records(apps: dict[str, FastAPI]) -> None:
    """A city's largest report (1,000 long records) is over 1 MiB and within juki's own limit."""
    record = {"resident_code": "0" * 11, "name": "長" * 300, "address": "所" * 400}
    body = json.dumps({"city": "032051", "records": [record] * 1000}).encode()
    assert len(body) > 1024 * 1024
    response = calling(apps["juki"])("POST", "/identities", content=body, headers=JSON)
    small_json_error(response, 422)  # the records are checked, not the size refused


def test_a_long_refused_input_is_not_echoed_whole(party: tuple[str, Call]) -> None:
    """900 kB of input to a field that refuses it: an answer of a few hundred bytes names it."""
    name, call = party
    error = small_json_error(post(call, name, "[" + "1," * 300_000 + "1]"), 422)
    assert error["field"] == POSTS[name][2], error


def test_a_body_that_is_not_json_names_the_body(party: tuple[str, Call]) -> None:
    name, call = party
    error = small_json_error(call("POST", POSTS[name][0], content=b"{not json", headers=JSON), 422)
    assert error["field"] == "body" and error["message"].startswith("body: not JSON ("), error


def test_a_body_that_is_not_json_is_a_small_4xx(party: tuple[str, Call]) -> None:
    name, call = party
    path = POSTS[name][0]
    text = {"content-type": "text/plain"}
    for content, headers in [(b"{not json", JSON), (b"\xff" * 900_000, text)]:
        response = call("POST", path, content=content, headers=headers)
        assert 400 <= response.status_code < 500
        small_json_error(response, response.status_code)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=12345678901234567890123", "offset"),
        ("offset=-1", "offset"),
        ("limit=0", "limit"),
        ("limit=100000000000000000000000", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_residents_paging_is_bounded(apps: dict[str, FastAPI], query: str, field: str) -> None:
    error = small_json_error(calling(apps["city"])("GET", f"/residents?{query}"), 422)
    assert error["field"] == field


def test_residents_paging_within_bounds(apps: dict[str, FastAPI]) -> None:
    call = calling(apps["city"])
    assert len(call("GET", "/residents?limit=3&offset=2").json()) == 3
    assert call("GET", "/residents?offset=1000000000").json() == []


def test_unknown_route_and_method_answer_kofu_json(party: tuple[str, Call]) -> None:
    _, call = party
    assert small_json_error(call("GET", "/no/such/path"), 404)["error"] == "NotFound"
    response = call("DELETE", "/openapi.json")
    assert small_json_error(response, 405)["error"] == "MethodNotAllowed"
    assert "GET" in response.headers["allow"]


def test_safe_text_escapes_and_caps() -> None:
    assert safe_text("a\ud800b") == "a\\ud800b"
    assert safe_text("名" * 1000, cap=10) == "名" * 9 + "…"
    assert safe_text("\U0001f600") == "\U0001f600"


def test_an_ocsp_get_with_a_character_no_base64_has_is_a_malformed_request(
    apps: dict[str, FastAPI],
) -> None:
    """RFC 6960 §2.3: a request the responder cannot read is answered malformedRequest, not 500."""
    response = calling(apps["jpki"])("GET", "/ocsp/auth/%C3%A9")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ocsp-response"
    assert ocsp.load_der_ocsp_response(response.content).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_numbers_and_dates_past_any_calendar_or_store_are_refused(apps: dict[str, FastAPI]) -> None:
    """Each of these was a 500 (an overflowing date or integer); now a 422 naming the field."""
    city, center = calling(apps["city"]), calling(apps["center"])
    resident = city("GET", "/residents?limit=1").json()[0]["resident_code"]
    tax = {"kind": "tax_assessment", "resident": resident, "effective": "2026-11-24"}
    tax |= {"fiscal_year": 2027, "municipal_tax": 1, "prefectural_tax": 1}
    kazei = {"resident": resident, "type": "kazei"}
    for (method, path, body), field in [
        (("GET", "/settlement?month=9999-12", None), "month"),
        (("POST", "/card/slots", {"starts_at": "9999-12-31T23:59:00-12:00"}), "starts_at"),
        (("POST", "/card/slots", {"starts_at": "9999-12-31T23:59:00+09:00"}), "starts_at"),
        (("POST", "/certificates/counter", kazei | {"year": 10**30}), "year"),
        (("POST", "/events", [tax | {"municipal_tax": 10**30}]), "municipal_tax"),
        (("POST", "/events", [tax | {"incomes": {"給与": -(10**30)}}]), "incomes.給与"),
    ]:
        call = center if path.startswith("/settlement") else city
        error = small_json_error(call(method, path, json=body), 422)
        assert error["field"] == field, (path, error)


def test_juki_refuses_a_version_no_store_can_keep(apps: dict[str, FastAPI]) -> None:
    city, juki = calling(apps["city"]), calling(apps["juki"])
    code = city("GET", "/residents?limit=1").json()[0]["resident_code"]
    person = city("GET", f"/residents/{code}").json()["record"]
    record = {k: person[k] for k in ("resident_code", "individual_number", "name", "birth_date")}
    record |= {"sex": person["sex"], "address": "岩手県花巻市", "city": "032051"}
    record |= {"state": "resident", "since": "2020-01-01"}

    def report(version: int) -> httpx.Response:
        body = {"city": "032051", "records": [record | {"version": version}]}
        return juki("POST", "/identities", json=body)

    for version in (10**30, 2**31):  # past SQLite's integers; past PostgreSQL's INTEGER
        assert small_json_error(report(version), 422)["field"].startswith("records")
    assert report(2**31 - 1).json() == {"v": 1, "stored": 1, "replaced": 0, "unchanged": 0}


@pytest.mark.slow  # a real jpki process: its start is most of the time
def test_a_real_server_answers_413_to_a_large_upload(tmp_path: Path) -> None:
    """Over a socket the client is still sending when the guard refuses: it must hear the 413."""
    with running(["serve", "jpki", "--port", "0"], tmp_path, "2026-11-24T12:00:00+09:00") as ready:
        body = b'{"card_id": "' + b"x" * 5_000_000 + b'", "cause": "lost"}'
        for content in (body, _pieces(body)):
            answer = httpx.post(f"{ready['url']}/revocations", content=content, headers=JSON)
            assert small_json_error(answer, 413, 1024)["reason"] == "body_too_large"


def _pieces(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]
