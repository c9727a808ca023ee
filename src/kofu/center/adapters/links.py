"""The center's links over LGWAN (mutual TLS): the authority (status, OCSP), the cities, juki."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cryptography import x509

from kofu.center.domain.auth import CLOCK_SKEW, ocsp_answer
from kofu.contracts import Contract
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.contracts.kiosk import ConnectedCity
from kofu.contracts.store import (
    CityHealth,
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrints,
    StoreRequest,
)
from kofu.core.clock import Clock
from kofu.core.errors import NotFound, Refused
from kofu.core.http import ask
from kofu.core.link import Link, LinkError
from kofu.core.network import NetworkIdentity, client_context

__all__ = [
    "HEALTH_KEPT",
    "HEALTH_TIMEOUT",
    "OCSP_KEEP_GOOD",
    "HttpCities",
    "HttpDirectory",
    "HttpJuki",
]

OCSP_KEEP_GOOD = timedelta(seconds=5)  # how long a "good" OCSP answer is reused (KOFU_OCSP_CACHE)
HEALTH_KEPT = timedelta(seconds=5)  # how long a city's /health answer is reused (KOFU_CITY_HEALTH)
HEALTH_TIMEOUT = timedelta(seconds=2)  # how long a city's /health may take (KOFU_CITY_HEALTH_WAIT)

M = TypeVar("M", bound=Contract)


class HttpDirectory:
    """The authority's /status and OCSP responder, on its private link (LGWAN, mutual TLS)."""

    def __init__(
        self,
        base_url: str,
        issuer: x509.Certificate,
        clock: Clock,
        identity: NetworkIdentity,
        keep_good: timedelta = OCSP_KEEP_GOOD,
        skew: timedelta = CLOCK_SKEW,
    ) -> None:
        self.base = base_url.rstrip("/")
        self.issuer, self.clock = issuer, clock
        self.keep_good, self.skew = keep_good, skew
        self.client = Link(client_context(identity), timeout=10)  # on every sign-in and issuance
        self._fresh: dict[int, tuple[str, datetime]] = {}  # serial -> (status, fresh until)
        self._people: dict[str, CertificateStatus] = {}  # serial -> the certificate's person

    def lookup(self, serial: str) -> CertificateStatus:
        """The issuing city, the holder digest and the person of a certificate.

        Who a certificate was issued to never changes, so the answer is kept
        for the worker's life; whether it is still good is OCSP's question,
        asked at every sign-in.
        """
        unavailable = _authority_unavailable()
        known = self._people.get(serial)
        if known is not None:
            return known
        answer = CertificateStatus.read(
            ask(self.client, "GET", f"{self.base}/status/{serial}", unavailable), unavailable
        )
        if answer.status != "good" or not answer.city:
            raise NotFound("the authority does not know this certificate", field="serial")
        if len(self._people) > 100_000:
            self._people.clear()
        self._people[serial] = answer
        return answer

    def status_of(self, cert: x509.Certificate, fresh: bool = False) -> str:
        """OCSP, reusing a good answer for a few seconds at most (``keep_good``); ``fresh``: never.

        A revocation (a card reported lost) must stop issuance at once, so a
        "good" is kept only for seconds, and the issuance itself asks fresh.
        Freshness is judged on the service's clock, the same one the
        authority signs its answers by (KOFU_NOW where it is set).
        """
        now = self.clock.now()
        cached = self._fresh.get(cert.serial_number)
        if not fresh and cached is not None and now < cached[1]:
            return cached[0]

        def ask(der: bytes) -> bytes:
            try:
                response = self.client.request(
                    "POST",
                    f"{self.base}/ocsp/auth",
                    content=der,
                    headers={"content-type": "application/ocsp-request"},
                )
            except LinkError as exc:
                raise _authority_unavailable() from exc
            if response.status_code != 200:
                raise _authority_unavailable()
            return response.content

        status, next_update = ocsp_answer(cert, self.issuer, ask, now, self.skew)
        if status == "good" and next_update is not None and self.keep_good:
            if len(self._fresh) > 100_000:
                self._fresh.clear()
            keep = min(self.keep_good, (next_update - now) / 2)
            self._fresh[cert.serial_number] = (status, now + keep)
        else:
            self._fresh.pop(cert.serial_number, None)
        return status


def _authority_unavailable() -> Refused:
    return Refused(
        "authority_unavailable",
        "the card's certificate authority could not answer just now",
        message_ja="証明書の確認ができません。しばらくしてからお試しください。",
    )


class HttpCities:
    """Each city's certificate server, reached with the center's network certificate."""

    def __init__(
        self,
        urls: dict[str, str],
        identity: NetworkIdentity,
        timeout: float = 30,
        health_kept: timedelta = HEALTH_KEPT,
        health_timeout: timedelta = HEALTH_TIMEOUT,
    ) -> None:
        self.urls = {code: url.rstrip("/") for code, url in urls.items()}
        self.client = Link(client_context(identity), timeout=timeout)
        self.health_kept = health_kept.total_seconds()
        self.health_timeout = max(0.1, health_timeout.total_seconds())  # 0: no wait, not none
        self._health_link = Link(client_context(identity), timeout=self.health_timeout)
        self._health: dict[str, tuple[str | None, float]] = {}  # code -> (name, kept until)
        self._health_lock = threading.Lock()
        self._asking = ThreadPoolExecutor(max(1, len(self.urls)), "city-health")

    def connected(self) -> list[ConnectedCity]:
        """Every connected city with its name (from its /health), in code order.

        A city not answering now is still connected; it goes by its code
        until its name comes back with it.
        """
        return [ConnectedCity(code=c, name=n or c) for c, n in self.health().items()]

    def health(self) -> dict[str, str | None]:
        """Each city's name by its code, in code order; None for a city not answering now.

        Asked by the operator's page on every load and by every kiosk choosing
        a domicile city, so an answer is kept ``health_kept`` (a city not
        answering too, so a hung city costs one wait per period, not one per
        page); the cities not kept are asked at once, each for at most
        ``health_timeout``, so one hung city cannot hold the page up.
        """
        now = time.monotonic()  # a cache of the network's state: wall-clock time plays no part
        with self._health_lock:
            kept = {c: n for c, (n, until) in self._health.items() if until > now}
        stale = [code for code in self.urls if code not in kept]
        asking = {code: self._asking.submit(self._name, code) for code in stale}
        # a bound past the link's own: a city that trickles bytes slower than the socket timeout
        done, _ = wait(asking.values(), timeout=2 * self.health_timeout + 1)
        fresh = {code: f.result() if f in done else None for code, f in asking.items()}
        until = time.monotonic() + self.health_kept
        with self._health_lock:
            self._health.update({code: (name, until) for code, name in fresh.items()})
        return {code: kept[code] if code in kept else fresh[code] for code in sorted(self.urls)}

    def close(self) -> None:
        """Let go of the links' connections and the threads that ask for /health."""
        self._asking.shutdown(wait=False, cancel_futures=True)
        self._health_link.close()
        self.client.close()

    def _name(self, code: str) -> str | None:
        """The city's name as its /health gives it; None when it does not answer as a city."""
        try:
            reply = self._health_link.get(f"{self.urls[code]}/health")
            return CityHealth.model_validate(reply.json()).name
        except (LinkError, ValueError):  # a ValidationError is a ValueError too
            return None

    def issue(self, city: str, request: StoreRequest) -> StoreAnswer:
        """The city's certificate server: the rendered document or a refusal."""
        return self._read(StoreAnswer, city, "POST", "/certificates/store", request)

    def identity(self, city: str, request: IdentityRequest) -> Identity:
        """本人確認情報 of the card's holder from the city that keeps the resident record."""
        return self._read(Identity, city, "POST", "/identity", request)

    def register_domicile(self, city: str, application: DomicileApplication) -> DomicileAnswer:
        """An application for 本籍地利用登録 to the domicile city."""
        return self._read(DomicileAnswer, city, "POST", "/domicile-registrations", application)

    def outcome(self, city: str, request_id: str) -> StoreOutcome:
        """What the city did under a request id: issued (with its answer), refused, unknown."""
        return self._read(StoreOutcome, city, "GET", f"/certificates/store/{request_id}")

    def abandon(self, city: str, request_id: str) -> StoreOutcome:
        """Close a request id the city never answered; its outcome either way."""
        return self._read(StoreOutcome, city, "POST", f"/certificates/store/{request_id}/abandon")

    def printed_many(self, city: str, prints: StorePrints) -> PrintsRecorded:
        """Tell the city of many confirmed prints in one exchange."""
        return self._read(PrintsRecorded, city, "POST", "/certificates/store/prints", prints)

    def _read(
        self, shape: type[M], city: str, method: str, path: str, body: Contract | None = None
    ) -> M:
        """One exchange whose answer must be the contract ``shape``; anything else: unavailable."""
        sent = {} if body is None else {"json": body.model_dump(mode="json")}
        return shape.read(self._call(city, method, path, **sent), _unavailable(city))

    def _call(self, city: str, method: str, path: str, **request: Any) -> dict[str, Any]:
        url = self.urls.get(city)
        if url is None:
            raise Refused(
                "city_not_connected",
                f"city {city} does not take part in store issuance",
                message_ja="この市区町村はコンビニ交付を実施していません。",
            )
        answer: dict[str, Any] = ask(
            self.client, method, f"{url}{path}", _unavailable(city), **request
        )
        return answer


def _unavailable(city: str) -> Refused:
    return Refused(
        "city_unavailable",
        f"city {city} could not answer just now",
        message_ja="市区町村のシステムに接続できません。しばらくしてからお試しください。",
    )


class HttpJuki:
    """juki over LGWAN: which city holds a person's record now."""

    def __init__(self, base_url: str, identity: NetworkIdentity) -> None:
        self.base = base_url.rstrip("/")
        self.client = Link(client_context(identity), timeout=10)

    def whereabouts(self, resident_code: str) -> IdentityReport:
        unavailable = Refused(
            "juki_unavailable",
            "the national directory could not answer just now",
            message_ja="住民登録の確認ができません。しばらくしてからお試しください。",
        )
        answer = ask(self.client, "GET", f"{self.base}/residents/{resident_code}", unavailable)
        return IdentityReport.read(answer, unavailable)
