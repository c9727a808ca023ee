"""Mutual TLS on the services: only holders of a network-CA certificate get in (openssl agrees)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from kofu.core.errors import InvalidInput
from kofu.core.network import client_context, network_identity
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
    center = network_identity(home, "center")
    with httpx.Client(verify=client_context(center)) as client:
        assert client.get(f"{url}/health").json()["city"] == CITY


def test_a_client_without_a_certificate_is_refused(served: tuple[str, Path]) -> None:
    url, home = served
    import ssl

    anonymous = ssl.create_default_context(cafile=str(home / "network" / "ca.pem"))
    with httpx.Client(verify=anonymous) as client, pytest.raises(httpx.TransportError):
        client.get(f"{url}/health")


def test_a_certificate_from_another_ca_is_refused(served: tuple[str, Path], tmp_path: Path) -> None:
    url, home = served
    stranger = network_identity(tmp_path, "center")  # a different network CA
    ctx = client_context(stranger)
    ctx.load_verify_locations(
        str(home / "network" / "ca.pem")
    )  # trusts the server, but is not trusted
    with httpx.Client(verify=ctx) as client, pytest.raises(httpx.TransportError):
        client.get(f"{url}/health")


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
    center = network_identity(home, "center")
    ca = str(home / "network" / "ca.pem")
    with_cert = _openssl_get(url, "-CAfile", ca, "-cert", str(center.cert), "-key", str(center.key))
    assert "HTTP/1.1 200" in with_cert
    without = _openssl_get(url, "-CAfile", ca)
    assert "HTTP/" not in without  # the server answered nothing: the handshake was refused
    assert any(word in without.lower() for word in ("alert", "error", "errno"))


@pytest.mark.parametrize("bad", ["", "Center", "city_1", "a" * 49, "../x"])
def test_network_names_are_checked(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput):
        network_identity(tmp_path, bad)
