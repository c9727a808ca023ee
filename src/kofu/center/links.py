"""The center's links over LGWAN (mutual TLS): the authority (status, OCSP), the cities, juki."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from cryptography import x509

from kofu.center.auth import ocsp_answer
from kofu.core.clock import Clock
from kofu.core.errors import NotFound, Refused
from kofu.core.http import ask
from kofu.core.link import Link, LinkError
from kofu.core.network import NetworkIdentity, client_context

__all__ = ["HttpCities", "HttpDirectory", "HttpJuki"]


class HttpDirectory:
    """The authority's /status and OCSP responder, on its private link (LGWAN, mutual TLS)."""

    def __init__(
        self, base_url: str, issuer: x509.Certificate, clock: Clock, identity: NetworkIdentity
    ) -> None:
        self.base = base_url.rstrip("/")
        self.issuer, self.clock = issuer, clock
        self.client = httpx.Client(verify=client_context(identity), timeout=10)
        self._fresh: dict[int, tuple[str, datetime]] = {}  # serial -> (status, fresh until)
        self._people: dict[str, dict[str, Any]] = {}  # serial -> the certificate's person

    def lookup(self, serial: str) -> dict[str, Any]:
        """The issuing city, the holder digest and the person of a certificate.

        Who a certificate was issued to never changes, so the answer is kept
        for the worker's life; whether it is still good is OCSP's question,
        asked at every sign-in.
        """
        unavailable = Refused(
            "authority_unavailable",
            "the card's certificate authority could not answer just now",
            message_ja="証明書の確認ができません。しばらくしてからお試しください。",
        )
        known = self._people.get(serial)
        if known is not None:
            return dict(known)
        answer = ask(self.client, "GET", f"{self.base}/status/{serial}", unavailable)
        if answer.get("status") != "good" or not answer.get("city"):
            raise NotFound("the authority does not know this certificate", field="serial")
        if len(self._people) > 100_000:
            self._people.clear()
        self._people[serial] = {k: answer[k] for k in ("city", "holder_digest", "resident_code")}
        return dict(answer)

    def status_of(self, cert: x509.Certificate) -> str:
        """OCSP, reusing a good signed answer for half its freshness, as relying parties may.

        Freshness is judged on the service's clock, the same one the
        authority signs its answers by (KOFU_NOW where it is set).
        """
        now = self.clock.now()
        cached = self._fresh.get(cert.serial_number)
        if cached is not None and now < cached[1]:
            return cached[0]

        def ask(der: bytes) -> bytes:
            response = self.client.post(
                f"{self.base}/ocsp/auth",
                content=der,
                headers={"content-type": "application/ocsp-request"},
            )
            return response.content

        status, next_update = ocsp_answer(cert, self.issuer, ask, now)
        if status == "good" and next_update is not None:
            if len(self._fresh) > 100_000:
                self._fresh.clear()
            self._fresh[cert.serial_number] = (status, now + (next_update - now) / 2)
        return status


class HttpCities:
    """Each city's certificate server, reached with the center's network certificate."""

    def __init__(
        self, urls: dict[str, str], identity: NetworkIdentity, timeout: float = 30
    ) -> None:
        self.urls = {code: url.rstrip("/") for code, url in urls.items()}
        self.client = Link(client_context(identity), timeout=timeout)

    def connected(self) -> list[dict[str, str]]:
        """Every connected city with its name (from its /health), in code order."""
        out = []
        for code, url in sorted(self.urls.items()):
            try:
                name = str(self.client.get(f"{url}/health").json().get("name", code))
            except (LinkError, ValueError):
                name = code  # a city down now is still connected; its name comes back with it
            out.append({"code": code, "name": name})
        return out

    def issue(self, city: str, body: dict[str, Any]) -> dict[str, Any]:
        """The city's certificate server: the rendered document or a refusal."""
        return self._post(city, "/certificates/store", body)

    def identity(self, city: str, auth_serial: str) -> dict[str, Any]:
        """本人確認情報 of the card's holder from the city that keeps the resident record."""
        return self._post(city, "/identity", {"auth_serial": auth_serial})

    def register_domicile(self, city: str, body: dict[str, Any]) -> dict[str, Any]:
        """An application for 本籍地利用登録 to the domicile city."""
        return self._post(city, "/domicile-registrations", body)

    def outcome(self, city: str, request_id: str) -> dict[str, Any]:
        """What the city did under a request id: issued (with its answer), refused, unknown."""
        return self._call(city, "GET", f"/certificates/store/{request_id}")

    def abandon(self, city: str, request_id: str) -> dict[str, Any]:
        """Close a request id the city never answered; its outcome either way."""
        return self._call(city, "POST", f"/certificates/store/{request_id}/abandon")

    def _post(self, city: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(city, "POST", path, json=body)

    def _call(self, city: str, method: str, path: str, **request: Any) -> dict[str, Any]:
        url = self.urls.get(city)
        if url is None:
            raise Refused(
                "city_not_connected",
                f"city {city} does not take part in store issuance",
                message_ja="この市区町村はコンビニ交付を実施していません。",
            )
        unavailable = Refused(
            "city_unavailable",
            f"city {city} could not answer just now",
            message_ja="市区町村のシステムに接続できません。しばらくしてからお試しください。",
        )
        answer: dict[str, Any] = ask(self.client, method, f"{url}{path}", unavailable, **request)
        return answer


class HttpJuki:
    """juki over LGWAN: which city holds a person's record now."""

    def __init__(self, base_url: str, identity: NetworkIdentity) -> None:
        self.base = base_url.rstrip("/")
        self.client = Link(client_context(identity), timeout=10)

    def whereabouts(self, resident_code: str) -> dict[str, Any]:
        unavailable = Refused(
            "juki_unavailable",
            "the national directory could not answer just now",
            message_ja="住民登録の確認ができません。しばらくしてからお試しください。",
        )
        answer: dict[str, Any] = ask(
            self.client, "GET", f"{self.base}/residents/{resident_code}", unavailable
        )
        return answer
