"""The city's links to other cities, juki and the authority, for the Juki-net services.

Other cities are found in the LGWAN address book under KOFU_HOME
(``network/lgwan/cities/CODE.json``), which ``kofu serve city --mtls`` writes
when it starts: its URL and the juki it reports to.  A city is reached with
this city's own network certificate (``city-CODE``), so the other side knows
who asks; juki tells which city keeps a person's record now; the authority
tells whose a card's certificate is and whether it still holds (its
register, and OCSP for a signature certificate, RFC 6960).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from kofu.contracts import Contract
from kofu.contracts.citylink import (
    MoveInNotice,
    MoveInReceipt,
    MoveOutData,
    OrdinaryMoveInNotice,
    OrdinaryMoveInReceipt,
    WideAreaAnswer,
    WideAreaRequest,
)
from kofu.contracts.jpki import CertificateStatus
from kofu.contracts.juki import IdentityReport
from kofu.core.errors import InvalidInput, NotFound, Refused
from kofu.core.http import ask
from kofu.core.link import Link, LinkError
from kofu.core.network import client_context, network_identity
from kofu.core.settings import Settings

__all__ = ["CityLink", "publish_address", "read_address"]

M = TypeVar("M", bound=Contract)
SKEW = timedelta(minutes=5)  # two clocks may differ this much (as the center allows)


def _book(home: Path) -> Path:
    return home / "network" / "lgwan" / "cities"


def publish_address(home: Path, code: str, url: str, juki: str | None) -> None:
    """Write this city's entry in the LGWAN address book, whole or not at all."""
    folder = _book(home)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{code}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps({"city": code, "url": url, "juki": juki}), encoding="utf-8")
    os.replace(temporary, folder / f"{code}.json")


def read_address(home: Path, code: str) -> dict[str, Any]:
    """A city's entry in the address book; a city never started has none."""
    path = _book(home) / f"{code}.json"
    try:
        entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Refused(
            "city_unreachable",
            f"city {code} is not on the network (start it: kofu up, or kofu serve city --mtls)",
            message_ja="相手の市区町村に接続できません。",
        ) from exc
    return entry


def _unavailable(city: str) -> Refused:
    return Refused(
        "city_unavailable",
        f"city {city} could not answer just now; ask again with the same request id",
        message_ja="相手の市区町村から応答がありません。しばらくしてから再度お試しください。",
    )


class CityLink:
    """This city (``code``) speaking to other cities, juki and the authority over LGWAN."""

    def __init__(self, settings: Settings, code: str, juki: str | None = None) -> None:
        self.home, self.code = settings.home, code
        identity = network_identity(settings.home, f"city-{code}", "lgwan")
        self.link = Link(client_context(identity), timeout=30)
        self.juki = juki or os.environ.get("KOFU_JUKI_URL") or self._own_juki()
        self.jpki = os.environ.get("KOFU_JPKI_URL")

    def _own_juki(self) -> str | None:
        try:
            return read_address(self.home, self.code).get("juki")
        except Refused:
            return None

    def __enter__(self) -> CityLink:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this link opened."""
        self.link.close()

    # --- juki and the authority ----------------------------------------------------------

    def whereabouts(self, resident_code: str) -> IdentityReport:
        """Which city keeps the person's record now (juki's answer)."""
        if not self.juki:
            raise InvalidInput(
                "no juki to ask: set KOFU_JUKI_URL or start this city with --juki",
                field="juki",
            )
        unavailable = Refused(
            "juki_unavailable",
            "juki could not say which city keeps the record just now",
            message_ja="住基ネットに接続できません。しばらくしてから再度お試しください。",
        )
        url = f"{self.juki.rstrip('/')}/residents/{resident_code}"
        answer = ask(self.link, "GET", url, unavailable)
        return IdentityReport.read(answer, unavailable)

    def _jpki(self) -> str:
        if not self.jpki:
            raise InvalidInput(
                "no authority to ask: set KOFU_JPKI_URL to its private https URL", field="jpki"
            )
        return self.jpki.rstrip("/")

    def certificate_status(self, serial: str) -> CertificateStatus:
        """The authority's register entry for a certificate: whose, and whether revoked."""
        unavailable = Refused(
            "authority_unavailable",
            "the card's certificate authority could not answer just now",
            message_ja="電子証明書の確認ができません。しばらくしてから再度お試しください。",
        )
        try:
            answer = ask(self.link, "GET", f"{self._jpki()}/status/{serial}", unavailable)
        except NotFound:
            return CertificateStatus(serial=serial, status="unknown")
        return CertificateStatus.read(answer, unavailable)

    def sign_ca(self) -> x509.Certificate:
        """The authority's signature CA, which issues the card's signature certificate."""
        try:
            reply = self.link.get(f"{self._jpki()}/ca/sign.der")
            return x509.load_der_x509_certificate(reply.content)
        except (LinkError, ValueError) as exc:
            raise Refused(
                "authority_unavailable",
                "the authority's signature CA could not be read",
                message_ja="電子証明書の確認ができません。",
            ) from exc

    def ocsp_sign(self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime) -> str:
        """good, revoked or unknown: the authority's signed OCSP answer, checked (RFC 6960)."""
        request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
        try:
            reply = self.link.post(
                f"{self._jpki()}/ocsp/sign",
                content=request.public_bytes(Encoding.DER),
            )
            response = ocsp.load_der_ocsp_response(reply.content)
        except (LinkError, ValueError):
            return "unknown"
        if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            return "unknown"
        public = issuer.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            return "unknown"
        try:
            public.verify(
                response.signature,
                response.tbs_response_bytes,
                padding.PKCS1v15(),
                response.signature_hash_algorithm or hashes.SHA256(),
            )
        except InvalidSignature:
            return "unknown"
        if response.serial_number != cert.serial_number or response.this_update_utc > now + SKEW:
            return "unknown"
        if response.next_update_utc is not None and response.next_update_utc < now - SKEW:
            return "unknown"  # an old answer replayed must not outlive a revocation
        return {
            ocsp.OCSPCertStatus.GOOD: "good",
            ocsp.OCSPCertStatus.REVOKED: "revoked",
        }.get(response.certificate_status, "unknown")

    # --- other cities ----------------------------------------------------------------------

    def _city(self, city: str) -> str:
        return str(read_address(self.home, city)["url"]).rstrip("/")

    def _read(self, shape: type[M], city: str, method: str, path: str, **sent: Any) -> M:
        unavailable = _unavailable(city)
        answer = ask(self.link, method, f"{self._city(city)}{path}", unavailable, **sent)
        return shape.read(answer, unavailable)

    def wide_area(self, home_city: str, request: WideAreaRequest) -> WideAreaAnswer:
        """The home city's answer to a wide-area certificate request."""
        body = request.model_dump(mode="json")
        return self._read(WideAreaAnswer, home_city, "POST", "/citylink/wide-area", json=body)

    def move_out_data(self, from_city: str, resident_code: str) -> MoveOutData:
        """The 転出証明書情報 the old city keeps for this city (403 for any other city)."""
        return self._read(MoveOutData, from_city, "GET", f"/citylink/move-outs/{resident_code}")

    def notify_move_in(self, from_city: str, notice: MoveInNotice) -> MoveInReceipt:
        """転入通知 to the old city, which closes the move-out data."""
        body = notice.model_dump(mode="json")
        return self._read(MoveInReceipt, from_city, "POST", "/citylink/move-ins", json=body)

    def notify_ordinary_move_in(
        self, from_city: str, notice: OrdinaryMoveInNotice
    ) -> OrdinaryMoveInReceipt:
        """転入通知 of an ordinary move to the old city, which confirms the move-out."""
        body = notice.model_dump(mode="json")
        path = "/citylink/move-in-notices"
        return self._read(OrdinaryMoveInReceipt, from_city, "POST", path, json=body)
