"""The city's certificate issuance server (証明発行サーバ): store requests from authenticated cards.

The issuance center tells the city which user-authentication certificate
signed in; the city finds its own card record for it, applies the store
rules, and issues for that card's holder only — the request cannot name
anyone else.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import CertificateType, IssueRequest
from kofu.city.domain.store_rules import StoreRules, check_card, check_store_request
from kofu.city.services.domicile import issue_from_domicile
from kofu.city.services.issuance import IssuedCertificate, issue_certificate
from kofu.core.clock import Clock
from kofu.core.errors import NotFound
from kofu.core.holder import holder_digest

__all__ = ["answer_store_request", "holder_digest", "issue_for_store"]


def issue_for_store(
    *,
    uow: CityUnitOfWork,
    auth_serial: str,
    type: str,
    household: str | None = None,
    members: Sequence[str] = (),
    items: Sequence[str] = (),
    fiscal_year: int | None = None,
    rules: StoreRules,
    clock: Clock,
) -> IssuedCertificate:
    """Issue for the holder of the card whose certificate authenticated, or refuse with a reason."""
    with uow:
        uow.registers.today = clock.today()
        card = check_card(uow.cards.card_by_auth_serial(auth_serial.lower()), clock.today())
        resident_code = card.resident_code
    request = IssueRequest.parse(
        type=type,
        resident_code=resident_code,
        household=household,
        members=members,
        items=items,
        fiscal_year=fiscal_year,
    )

    def store_rules(inner: CityUnitOfWork, now: datetime) -> None:
        person = inner.registers.resident(resident_code)
        if person is None:
            raise NotFound("the card's holder has no record here", field="resident")
        household_members = inner.registers.household(person.household_id)
        check_store_request(rules, request, person, household_members, now)

    return issue_certificate(
        uow=uow, request=request, clock=clock, channel="store", precheck=store_rules
    )


def answer_store_request(
    *, uow: CityUnitOfWork, code: str, rules: StoreRules, clock: Clock, request: dict[str, Any]
) -> dict[str, Any]:
    """The certificate server's answer to the center: the PDF with its digests and fee.

    From the domicile city (``route: domicile``) the holder is known by the
    family register only, so the holder digest is the identity digest of the
    registered person, which the center compares with the residence city's.
    """
    if request.get("route") == "domicile":
        issued = issue_from_domicile(
            uow=uow,
            auth_serial=str(request["auth_serial"]),
            type=str(request["type"]),
            rules=rules,
            clock=clock,
        )
        digest = issued.holder_identity
    else:
        issued = issue_for_store(
            uow=uow,
            auth_serial=str(request["auth_serial"]),
            type=str(request["type"]),
            household=request.get("household"),
            members=request.get("members") or (),
            items=request.get("with") or (),
            fiscal_year=request.get("year"),
            rules=rules,
            clock=clock,
        )
        digest = holder_digest(code, issued.resident_code)
    return {
        "request_id": request["request_id"],
        "city": code,
        "certificate": issued.certificate,
        "issue_number": issued.issue_number,
        "content_digest": issued.content_digest,
        "holder_digest": digest,
        "holder_name": issued.holder_name,
        "fee": rules.fee(CertificateType(issued.certificate)),
        "pdf_base64": base64.b64encode(issued.pdf).decode(),
    }
