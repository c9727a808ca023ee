"""The JPKI authority reached over its private link (the city's side): LGWAN, mutual TLS.

The city presents its own network certificate (``city-CODE``); the authority
certifies and revokes only that city's cards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import httpx

from kofu.contracts import Contract
from kofu.contracts.jpki import CertificateRequest, CertificatesIssued, RevocationRequest, Revoked
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound, Refused
from kofu.core.network import NetworkIdentity, client_context

__all__ = ["HttpAuthority", "Issued"]

M = TypeVar("M", bound=Contract)


@dataclass(frozen=True)
class Issued:
    auth_pem: str
    auth_serial: str
    sign_pem: str | None
    sign_serial: str | None


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body: Any = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    message = body.get("message") or str(body.get("detail") or body)
    if response.status_code == 403:
        raise Refused(str(body.get("reason", "refused")), f"jpki: {message}")
    kind = {404: NotFound, 409: Conflict, 422: InvalidInput}.get(response.status_code, KofuError)
    raise kind(f"jpki: {message}")


class HttpAuthority:
    """Calls the authority's /certificates and /revocations endpoints as the city ``identity``."""

    def __init__(self, base_url: str, identity: NetworkIdentity) -> None:
        if not base_url.startswith("https://"):
            raise InvalidInput(
                f"the authority's private link is https (mutual TLS), not {base_url!r}",
                field="jpki_url",
            )
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(verify=client_context(identity), timeout=30)

    def issue_pair(
        self,
        *,
        city: str,
        resident_code: str,
        card_id: str,
        birth_date: date,
        card_expiry: date,
        facts: dict[str, str] | None,
        auth_public_key_pem: str,
        sign_public_key_pem: str | None,
    ) -> Issued:
        request = CertificateRequest.checked(
            {
                "city": city,
                "resident_code": resident_code,
                "card_id": card_id,
                "birth_date": birth_date,
                "card_expiry": card_expiry,
                "auth_public_key_pem": auth_public_key_pem,
                "sign_public_key_pem": sign_public_key_pem,
                "facts": facts,
            },
        )
        issued = self._post("/certificates", request, CertificatesIssued)
        return Issued(issued.auth_pem, issued.auth_serial, issued.sign_pem, issued.sign_serial)

    def revoke_card(self, card_id: str, cause: str) -> list[str]:
        request = RevocationRequest.checked({"card_id": card_id, "cause": cause})
        return list(self._post("/revocations", request, Revoked).revoked)

    def _post(self, path: str, body: Contract, shape: type[M]) -> M:
        """One exchange whose answer must be ``shape``; a failure says the authority's words."""
        try:
            response = self.client.post(f"{self.base_url}{path}", json=body.model_dump(mode="json"))
        except httpx.HTTPError as exc:
            raise KofuError(f"the JPKI authority at {self.base_url} is unreachable: {exc}") from exc
        _raise_for(response)
        broken = KofuError(f"the JPKI authority at {self.base_url} answered something else")
        try:
            return shape.read(response.json(), broken)
        except ValueError as exc:
            raise broken from exc
