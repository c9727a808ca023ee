"""The center's links: to the authority (status, OCSP) and to the cities (LGWAN, mutual TLS)."""

from __future__ import annotations

from typing import Any

import httpx
from cryptography import x509

from kofu.center.auth import ocsp_status
from kofu.core.errors import KofuError, NotFound, Refused
from kofu.core.network import NetworkIdentity, client_context

__all__ = ["HttpCities", "HttpDirectory"]


class HttpDirectory:
    """The authority's /status and OCSP responder."""

    def __init__(self, base_url: str, issuer: x509.Certificate) -> None:
        self.base = base_url.rstrip("/")
        self.issuer = issuer
        self.client = httpx.Client(timeout=10)

    def lookup(self, serial: str) -> dict[str, Any]:
        answer = self.client.get(f"{self.base}/status/{serial}").json()
        if answer.get("status") != "good" or not answer.get("city"):
            raise NotFound("the authority does not know this certificate", field="serial")
        return dict(answer)

    def status_of(self, cert: x509.Certificate) -> str:
        def ask(der: bytes) -> bytes:
            response = self.client.post(
                f"{self.base}/ocsp/auth",
                content=der,
                headers={"content-type": "application/ocsp-request"},
            )
            return response.content

        return ocsp_status(cert, self.issuer, ask)


class HttpCities:
    """Each city's certificate server, reached with the center's network certificate."""

    def __init__(
        self, urls: dict[str, str], identity: NetworkIdentity, timeout: float = 30
    ) -> None:
        self.urls = {code: url.rstrip("/") for code, url in urls.items()}
        self.client = httpx.Client(verify=client_context(identity), timeout=timeout)

    def issue(self, city: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.urls.get(city)
        if url is None:
            raise Refused(
                "city_not_connected",
                f"city {city} does not take part in store issuance",
                message_ja="お住まいの市区町村はコンビニ交付を実施していません。",
            )
        try:
            response = self.client.post(f"{url}/certificates/store", json=body)
        except httpx.HTTPError as exc:
            raise Refused(
                "city_unavailable",
                f"city {city} did not answer ({type(exc).__name__})",
                message_ja="市区町村のシステムに接続できません。しばらくしてからお試しください。",
            ) from exc
        data: dict[str, Any] = response.json()
        if response.status_code == 403:
            raise Refused(
                data.get("reason", "refused"),
                data.get("message", "refused"),
                message_ja=data.get("message_ja"),
            )
        if response.status_code != 200:
            raise KofuError(f"city {city}: {data.get('message', response.status_code)}")
        return data
