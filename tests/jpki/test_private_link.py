"""The attack on the authority's private side, against the live ``kofu serve jpki``.

Before, anyone on the machine could POST /certificates for any resident and
/revocations for any card in plain HTTP.  Now the CA certificates, CRLs and
OCSP stay public on the plain listener, and issuance, revocation and status
answer only on the mutual-TLS listener: issuance and revocation to a city
(``city-CODE``) for its own cards, status to the cities and the center.
Every refused attempt changes nothing: no certificate is issued, the
victim's card stays good.  Two independent clients: httpx and ``openssl
s_client``.  Runs on SQLite and on PostgreSQL (the ``jpki_server`` fixture).
"""

from __future__ import annotations

import json
import secrets
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from jpki_support import CardKeys, Server, certificate_request

from kofu.center.adapters.links import HttpDirectory
from kofu.center.domain.auth import verify_response
from kofu.city.adapters.jpki_http import HttpAuthority
from kofu.core.clock import FixedClock
from kofu.core.errors import InvalidInput, NotFound, Refused

VICTIM_CITY = "112186"


@pytest.fixture
def victim(jpki_server: Server) -> Iterator[httpx.Client]:
    """The victim's city on the private listener, as its LGWAN certificate says."""
    with jpki_server.client(f"city-{VICTIM_CITY}") as client:
        yield client


@pytest.fixture
def card(victim: httpx.Client, card_keys: CardKeys) -> dict[str, Any]:
    """A card the victim's city had certified: its id and both serials."""
    card_id = f"VICTIM-{secrets.token_hex(6)}"
    issued = victim.post("/certificates", json=certificate_request(card_keys, card_id))
    assert issued.status_code == 200, issued.text
    return {"card_id": card_id, **issued.json()}


def _refused(answer: httpx.Response, reason: str = "caller_not_allowed") -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json()["reason"] == reason, answer.text


def _still_good(victim: httpx.Client, card: dict[str, Any]) -> None:
    """Both of the victim's certificates are still good: the attempt changed nothing."""
    for kind in ("sign", "auth"):
        status = victim.get(f"/status/{card[f'{kind}_serial']}")
        assert status.status_code == 200, status.text
        assert status.json()["status"] == "good", status.text


def _never_issued(victim: httpx.Client, card_id: str) -> None:
    """The authority holds no certificate for ``card_id`` (revoking it finds nothing)."""
    answer = victim.post("/revocations", json={"card_id": card_id, "cause": "card_return"})
    assert answer.status_code == 404, answer.text


# --- plain HTTP: the public listener ------------------------------------------------------------


def test_plain_http_can_neither_issue_nor_revoke_nor_read_the_register(
    jpki_server: Server, victim: httpx.Client, card: dict[str, Any], card_keys: CardKeys
) -> None:
    attempt = f"FORGED-{secrets.token_hex(6)}"
    with httpx.Client(base_url=jpki_server.url, timeout=30) as anyone:
        _refused(anyone.post("/certificates", json=certificate_request(card_keys, attempt)))
        revoke = {"card_id": card["card_id"], "cause": "loss"}
        _refused(anyone.post("/revocations", json=revoke))
        _refused(anyone.get(f"/status/{card['auth_serial']}"))
        # what a CA publishes stays public, in plain HTTP
        assert anyone.get("/ca/auth.der").status_code == 200
        crl = x509.load_der_x509_crl(anyone.get("/crl/auth.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(card["auth_serial"], 16)) is None
    _still_good(victim, card)
    _never_issued(victim, attempt)


def test_the_private_listener_needs_a_certificate_of_the_lgwan_ca(jpki_server: Server) -> None:
    """No client certificate, or one from the stores' network: the handshake is refused."""
    lgwan_ca = ssl.create_default_context(cafile=str(jpki_server.identity("jpki").ca))
    with (
        httpx.Client(base_url=jpki_server.private, verify=lgwan_ca, timeout=30) as bare,
        pytest.raises(httpx.TransportError),
    ):
        bare.get("/status/1234")
    with (
        jpki_server.client("kiosk-7", network="store") as stranger,
        pytest.raises(httpx.TransportError),
    ):
        stranger.get("/status/1234")


# --- mutual TLS with someone else's certificate --------------------------------------------------


@pytest.mark.parametrize(
    "name", ["juki", "center", "jpki", f"city-{VICTIM_CITY}-counter", "city-11218", "operator"]
)
def test_no_other_lgwan_party_may_issue_or_revoke(
    jpki_server: Server,
    victim: httpx.Client,
    card: dict[str, Any],
    card_keys: CardKeys,
    name: str,
) -> None:
    attempt = f"FORGED-{secrets.token_hex(6)}"
    with jpki_server.client(name) as other:
        answer = other.post("/certificates", json=certificate_request(card_keys, attempt))
        _refused(answer)
        assert f"{name}'s" in answer.json()["message"]
        _refused(other.post("/revocations", json={"card_id": card["card_id"], "cause": "death"}))
    _still_good(victim, card)
    _never_issued(victim, attempt)


def test_status_answers_the_cities_and_the_center_only(
    jpki_server: Server, card: dict[str, Any]
) -> None:
    serial = card["auth_serial"]
    for name in ("center", "city-132012"):
        with jpki_server.client(name) as allowed:
            answer = allowed.get(f"/status/{serial}")
            assert answer.status_code == 200 and answer.json()["status"] == "good", answer.text
    for name in ("juki", "kiosk-web"):
        with jpki_server.client(name) as other:
            _refused(other.get(f"/status/{serial}"))


def test_a_city_acts_only_for_its_own_cards(
    jpki_server: Server, victim: httpx.Client, card: dict[str, Any], card_keys: CardKeys
) -> None:
    """Another city can neither issue in the victim city's name nor revoke or renew its card."""
    attempt = f"FORGED-{secrets.token_hex(6)}"
    with jpki_server.client("city-132012") as other:
        _refused(other.post("/certificates", json=certificate_request(card_keys, attempt)))
        renew = certificate_request(
            card_keys, card["card_id"], city="132012"
        )  # supersedes the old pair
        _refused(other.post("/certificates", json=renew), "card_of_another_city")
        revoke = {"card_id": card["card_id"], "cause": "loss"}
        _refused(other.post("/revocations", json=revoke), "card_of_another_city")
        own = other.post(
            "/certificates", json=certificate_request(card_keys, attempt, city="132012")
        )
        assert own.status_code == 200, own.text
    _still_good(victim, card)


# --- a forged certificate ------------------------------------------------------------------------


def _forged(issuer: x509.Certificate, key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    """What an attacker without the authority can make: the CA's name, the attacker's signature."""
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "forged")]))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def test_a_forged_certificate_is_not_to_be_had_and_not_accepted_by_the_center(
    jpki_server: Server, victim: httpx.Client, card: dict[str, Any], card_keys: CardKeys
) -> None:
    """Refused on both listeners, the attacker's own certificate fails the center's checks."""
    with (
        httpx.Client(base_url=jpki_server.url, timeout=30) as anyone,
        jpki_server.client("juki") as other,
    ):
        for client in (anyone, other):
            answer = client.post("/certificates", json=certificate_request(card_keys, "FORGED-1"))
            _refused(answer)
            assert "auth_pem" not in answer.json()
        issuer = x509.load_der_x509_certificate(anyone.get("/ca/auth.der").content)
    now = datetime.now(UTC)  # the live service runs on the real clock
    center = HttpDirectory(
        jpki_server.private, issuer, FixedClock(now), jpki_server.identity("center")
    )
    challenge = secrets.token_bytes(32)

    def sign_in(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> object:
        return verify_response(
            certificate_der=cert.public_bytes(serialization.Encoding.DER),
            signature=key.sign(challenge, padding.PKCS1v15(), hashes.SHA256()),
            challenge=challenge,
            issuer=issuer,
            now=now,
            status_of=center.status_of,
        )

    try:
        forged = _forged(issuer, card_keys.auth, now)
        with pytest.raises(Refused) as refused:
            sign_in(forged, card_keys.auth)
        assert refused.value.reason == "certificate_untrusted"
        with pytest.raises(NotFound):
            center.lookup(f"{forged.serial_number:x}")
        # the real card, certified for its city, signs in over the same link
        real = x509.load_pem_x509_certificate(card["auth_pem"].encode())
        sign_in(real, card_keys.auth)
        assert center.lookup(card["auth_serial"]).city == VICTIM_CITY
    finally:
        center.client.close()
    _never_issued(victim, "FORGED-1")


# --- openssl s_client: an independent client ---------------------------------------------------


def _s_client(
    server: Server, request: bytes, name: str | None
) -> subprocess.CompletedProcess[bytes]:
    """One HTTP/1.1 exchange over ``openssl s_client``, presenting ``name``'s certificate."""
    port = server.private.rsplit(":", 1)[1]
    ca = server.identity("jpki").ca
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", str(ca)]
    args += ["-verify_return_error", "-quiet", "-ign_eof"]
    if name is not None:
        identity = server.identity(name)
        args += ["-cert", str(identity.cert), "-key", str(identity.key)]
    return subprocess.run(args, input=request, capture_output=True, timeout=30, check=False)


def _http(method: str, path: str, body: dict[str, Any] | None = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")
def test_openssl_s_client_sees_the_same_rules(
    jpki_server: Server, victim: httpx.Client, card: dict[str, Any], card_keys: CardKeys
) -> None:
    attempt = f"FORGED-{secrets.token_hex(6)}"
    issue = _http("POST", "/certificates", certificate_request(card_keys, attempt))
    bare = _s_client(jpki_server, issue, None)
    assert b"HTTP/1.1" not in bare.stdout, bare.stdout
    # the server ends the handshake: an alert (…error…) or, when the alert is not read in time,
    # the connection reset under the client (errno=104); never an answer
    ended = bare.stderr.lower()
    assert b"error" in ended or b"errno=104" in ended, bare.stderr
    other = _s_client(jpki_server, issue, "juki")
    assert other.stdout.startswith(b"HTTP/1.1 403"), other.stdout
    assert b"caller_not_allowed" in other.stdout
    revoke = _http("POST", "/revocations", {"card_id": card["card_id"], "cause": "loss"})
    assert _s_client(jpki_server, revoke, "center").stdout.startswith(b"HTTP/1.1 403")
    _still_good(victim, card)
    _never_issued(victim, attempt)
    status = _s_client(jpki_server, _http("GET", f"/status/{card['auth_serial']}"), "center")
    assert status.stdout.startswith(b"HTTP/1.1 200"), status.stdout
    assert b'"status":"good"' in status.stdout


def test_pre_forked_workers_keep_both_listeners_apart(
    two_workers: Server, card_keys: CardKeys
) -> None:
    """Each worker serves both sockets, each with its own TLS setting."""
    assert two_workers.ready["workers"] == 2
    with (
        httpx.Client(base_url=two_workers.url, timeout=30) as anyone,
        two_workers.client(f"city-{VICTIM_CITY}") as city,
    ):
        for _ in range(6):  # new connections, spread over the workers
            assert anyone.get("/ca/root.der", headers={"connection": "close"}).status_code == 200
            _refused(anyone.post("/certificates", json=certificate_request(card_keys, "PLAIN")))
            answer = city.get("/status/1234", headers={"connection": "close"})
            assert answer.status_code == 200 and answer.json()["status"] == "unknown"
        issued = city.post("/certificates", json=certificate_request(card_keys, "PREFORK-1"))
        assert issued.status_code == 200, issued.text


def test_the_city_desk_link_speaks_as_its_city(jpki_server: Server, card_keys: CardKeys) -> None:
    """The city's adapter: https with its own certificate; a plain URL is refused up front."""
    with pytest.raises(InvalidInput, match="https"):
        HttpAuthority(jpki_server.url, jpki_server.identity(f"city-{VICTIM_CITY}"))
    desk = HttpAuthority(jpki_server.private, jpki_server.identity(f"city-{VICTIM_CITY}"))
    other = HttpAuthority(jpki_server.private, jpki_server.identity("city-132012"))
    card_id = f"DESK-{secrets.token_hex(6)}"
    body = certificate_request(card_keys, card_id)
    issued = desk.issue_pair(
        city=VICTIM_CITY,
        resident_code=body["resident_code"],
        card_id=card_id,
        birth_date=datetime(1990, 5, 10).date(),
        card_expiry=datetime(2036, 5, 10).date(),
        facts=body["facts"],
        auth_public_key_pem=body["auth_public_key_pem"],
        sign_public_key_pem=body["sign_public_key_pem"],
    )
    with pytest.raises(Refused) as refused:
        other.revoke_card(card_id, "loss")
    assert refused.value.reason == "card_of_another_city"
    assert sorted(desk.revoke_card(card_id, "loss")) == sorted(
        [issued.auth_serial, issued.sign_serial]
    )
    for client in (desk.client, other.client):
        client.close()
