"""Mutual TLS on the services: only holders of a network-CA certificate get in (openssl agrees)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import httpx
import pytest

from kofu.core.errors import InvalidInput, Refused
from kofu.core.http import ask
from kofu.core.link import Link, LinkError
from kofu.core.network import client_context, network_identity
from kofu.core.serve import free_port
from services import running, seeded_city_home

CITY = "032051"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("home")
    seeded_city_home(home, CITY, date(2026, 11, 24), "c0ffee")
    args = ["serve", "city", "--city", CITY, "--port", "0", "--mtls"]
    with running(args, home, "2026-11-24T12:00:00+09:00") as ready:
        assert ready["url"].startswith("https://127.0.0.1:")
        yield ready["url"], home


def test_a_client_with_a_network_certificate_gets_in(served: tuple[str, Path]) -> None:
    url, home = served
    center = network_identity(home, "center", "lgwan")
    with httpx.Client(verify=client_context(center)) as client:
        assert client.get(f"{url}/health").json()["city"] == CITY


def test_a_client_without_a_certificate_is_refused(served: tuple[str, Path]) -> None:
    url, home = served
    import ssl

    anonymous = ssl.create_default_context(cafile=str(home / "network" / "lgwan" / "ca.pem"))
    with httpx.Client(verify=anonymous) as client, pytest.raises(httpx.TransportError):
        client.get(f"{url}/health")


def test_a_certificate_from_another_ca_is_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    url, home = served
    stranger = network_identity(tmp_path, "center", "lgwan")  # a different network CA
    ctx = client_context(stranger)
    ctx.load_verify_locations(
        str(home / "network" / "lgwan" / "ca.pem")
    )  # trusts the server, but is not trusted
    with httpx.Client(verify=ctx) as client, pytest.raises(httpx.TransportError):
        client.get(f"{url}/health")


def test_a_kiosk_can_never_reach_a_city_directly(served: tuple[str, Path]) -> None:
    """A store-network certificate (a kiosk's) is refused by a city: only LGWAN gets in."""
    url, home = served
    kiosk = client_context(network_identity(home, "kiosk-7"))
    kiosk.load_verify_locations(str(home / "network" / "lgwan" / "ca.pem"))
    with httpx.Client(verify=kiosk) as client, pytest.raises(httpx.TransportError):
        client.post(f"{url}/certificates/store", json={})


# a forged print confirmation would count a store issuance that never happened
_PRINTED = {
    "request_id": "req-00000001",
    "city": "112186",
    "copies": 1,
    "fee": 200,
    "printed_at": "2026-11-24T12:00:00+09:00",
}


@pytest.mark.parametrize("name", ["city-112186", "juki", "bench"])
def test_only_the_center_may_ask_the_store_certificate_server(
    served: tuple[str, Path], name: str
) -> None:
    """Another party on LGWAN gets in, but the store path answers only the center's certificate."""
    url, home = served
    ask = {"request_id": "req-00000001", "auth_serial": "c0ffee", "certificate": "juminhyo"}
    other = client_context(network_identity(home, name, "lgwan"))
    with httpx.Client(verify=other, timeout=30) as client:
        assert client.get(f"{url}/health").status_code == 200
        for method, path, body in (
            ("POST", "/certificates/store", ask),
            ("GET", "/certificates/store/req-00000001", None),
            ("POST", "/certificates/store/req-00000001/abandon", None),
            ("POST", "/certificates/store/req-00000001/printed", _PRINTED),
            ("POST", "/certificates/store/prints", {"prints": [_PRINTED]}),
            ("POST", "/identity", {"auth_serial": "c0ffee"}),
        ):
            refused = client.request(method, f"{url}{path}", json=body)
            assert refused.status_code == 403, refused.text
            assert refused.json()["reason"] == "caller_not_allowed"
            assert f"is {name}'s" in refused.json()["message"]
            assert "係員" in refused.json()["message_ja"]  # what a kiosk would show
    center = client_context(network_identity(home, "center", "lgwan"))
    with httpx.Client(verify=center, timeout=30) as client:
        answered = client.post(f"{url}/certificates/store", json=ask)
        told = client.get(f"{url}/certificates/store/req-00000001")
    assert answered.status_code == 200, answered.text
    assert answered.json()["request_id"] == "req-00000001"
    assert told.json() == {
        "v": 1,
        "request_id": "req-00000001",
        "state": "issued",
        "answer": answered.json(),
        "reason": None,
        "message": None,
        "message_ja": None,
    }


def test_the_issuance_links_keep_one_connection_a_thread(served: tuple[str, Path]) -> None:
    """core.link: answers read back whole, one kept-alive connection per thread, never shared."""
    url, home = served
    with Link(client_context(network_identity(home, "center", "lgwan"))) as link:
        for _ in range(3):
            assert link.get(f"{url}/health").json()["city"] == CITY
        assert link.opened == 1
        odd = link.post(f"{url}/identity", json={"auth_serial": "c0ffee", "名": "ä"})
        assert odd.status_code == 422 and "名" in odd.text  # the UTF-8 field name arrived whole
        answered = link.post(f"{url}/identity", json={"auth_serial": "c0ffee"})
        assert answered.status_code == 200 and link.opened == 1
        barrier = threading.Barrier(4)

        def health(_: int) -> str:
            barrier.wait(timeout=30)
            return str(link.get(f"{url}/health").json()["city"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(health, range(4))) == [CITY] * 4
        assert link.opened == 1 + 4  # this thread's, and one for each of the four


def test_a_link_sends_query_parameters(served: tuple[str, Path]) -> None:
    url, home = served
    with Link(client_context(network_identity(home, f"city-{CITY}-desk", "lgwan"))) as link:
        assert len(link.get(f"{url}/residents", params={"limit": "3"}).json()) == 3
        assert link.get(f"{url}/residents", params={"limit": "0"}).status_code == 422


@pytest.mark.parametrize("name", ["center", "juki", "city-112186", "city-112186-counter"])
def test_the_registers_and_desks_answer_only_the_citys_own_staff(
    served: tuple[str, Path], name: str
) -> None:
    """Another LGWAN party (even another city's clerk) is refused the register and the desks."""
    url, home = served
    asks = [
        ("GET", "/residents", None),
        ("GET", "/domicile-registrations", None),
        ("POST", "/events", [{"kind": "birth"}]),
        ("POST", "/certificates/counter", {"resident": "00000000000", "type": "juminhyo"}),
        ("POST", "/card/notices", None),
        ("GET", "/dashboard", None),  # the activity log's figures are the city's own
        ("GET", "/dashboard.json", None),
    ]
    other = client_context(network_identity(home, name, "lgwan"))
    with httpx.Client(verify=other, timeout=30) as client:
        for method, path, body in asks:
            refused = client.request(method, f"{url}{path}", json=body)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["reason"] == "caller_not_allowed"
            assert f"only city-{CITY} and its staff" in refused.json()["message"]
    for own in (f"city-{CITY}", f"city-{CITY}-counter"):
        mine = client_context(network_identity(home, own, "lgwan"))
        with httpx.Client(verify=mine, timeout=30) as client:
            assert len(client.get(f"{url}/residents", params={"limit": 2}).json()) == 2
            missing = client.post(f"{url}/certificates/counter", json=asks[3][2])
            assert missing.status_code == 404, missing.text  # past the check, to the register


def test_an_idle_link_connects_afresh(
    served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection idle longer than the link allows is replaced, not reused."""
    url, home = served
    monkeypatch.setattr("kofu.core.link._IDLE", 0.0)
    with Link(client_context(network_identity(home, "center", "lgwan"))) as link:
        link.get(f"{url}/health")
        time.sleep(0.01)
        assert link.get(f"{url}/health").status_code == 200
        assert link.opened == 2


def test_a_closed_link_connects_afresh_and_closes_that_too(served: tuple[str, Path]) -> None:
    """After close() a request opens a new connection that the next close() reaches."""
    url, home = served
    link = Link(client_context(network_identity(home, "center", "lgwan")))
    link.get(f"{url}/health")
    link.close()
    assert link.get(f"{url}/health").status_code == 200 and link.opened == 2
    kept = link._pool()[("https", "127.0.0.1", int(url.rsplit(":", 1)[1]))]
    assert kept.sock is not None
    link.close()
    assert kept.sock is None  # closed by close(), not left open by http.client


def test_a_link_refused_or_unreached_says_so(served: tuple[str, Path]) -> None:
    url, home = served
    import ssl

    anonymous = ssl.create_default_context(cafile=str(home / "network" / "lgwan" / "ca.pem"))
    with Link(anonymous) as link, pytest.raises(LinkError):
        link.get(f"{url}/health")
    unavailable = Refused("city_unavailable", "the city could not answer just now")
    with Link(client_context(network_identity(home, "center", "lgwan")), timeout=5) as link:
        with pytest.raises(Refused) as raised:
            ask(link, "GET", f"https://127.0.0.1:{free_port()}/health", unavailable)
        assert raised.value.reason == "city_unavailable"
        with pytest.raises(LinkError, match="not an http"):
            link.get("ftp://127.0.0.1/x")


def _openssl_get(url: str, *extra: str) -> str:
    host_port = url.removeprefix("https://")
    request = f"GET /health HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n"
    done = subprocess.run(
        ["openssl", "s_client", "-connect", host_port, "-quiet", "-verify_return_error", *extra],
        input=request,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout + done.stderr


def test_openssl_as_an_independent_client(served: tuple[str, Path]) -> None:
    url, home = served
    center = network_identity(home, "center", "lgwan")
    ca = str(home / "network" / "lgwan" / "ca.pem")
    with_cert = _openssl_get(url, "-CAfile", ca, "-cert", str(center.cert), "-key", str(center.key))
    assert "HTTP/1.1 200" in with_cert
    without = _openssl_get(url, "-CAfile", ca)
    assert "HTTP/" not in without  # the server answered nothing: the handshake was refused
    assert any(word in without.lower() for word in ("alert", "error", "errno"))


@pytest.mark.parametrize("bad", ["", "Center", "city_1", "a" * 49, "../x"])
def test_network_names_are_checked(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput):
        network_identity(tmp_path, bad)


def test_an_operator_certificate_for_a_browser(tmp_path: Path) -> None:
    """`kofu network cert --p12`: openssl opens the file with the password and trusts the chain."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOFU_")}
    env["KOFU_HOME"] = str(tmp_path)
    kofu = str(Path(sys.executable).with_name("kofu"))
    p12 = tmp_path / "operator.p12"
    made = subprocess.run(
        [
            kofu,
            "network",
            "cert",
            "--name",
            "operator",
            "--p12",
            str(p12),
            "--password",
            "s3cret-pw",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert made.returncode == 0, made.stderr
    out = json.loads(made.stdout)
    opened = subprocess.run(
        ["openssl", "pkcs12", "-in", str(p12), "-passin", "pass:s3cret-pw", "-nokeys", "-clcerts"],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0 and "CN = operator" in opened.stdout.replace("CN=", "CN = ")
    wrong = subprocess.run(
        ["openssl", "pkcs12", "-in", str(p12), "-passin", "pass:wrong-pw", "-nokeys"],
        capture_output=True,
    )
    assert wrong.returncode != 0
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", out["ca"], out["cert"]], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    short = subprocess.run(
        [
            kofu,
            "network",
            "cert",
            "--name",
            "x",
            "--p12",
            str(tmp_path / "x.p12"),
            "--password",
            "short",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert short.returncode != 0 and "at least 8" in short.stderr
    assert not (tmp_path / "x.p12").exists()
