"""The city's certificate issuance server (証明発行サーバ): store requests from authenticated cards.

The issuance center tells the city which user-authentication certificate
signed in; the city finds its own card record for it, applies the store
rules, and issues for that card's holder only — the request cannot name
anyone else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.store_rules import StoreRules, check_card, check_store_request
from kofu.city.services.issuance import IssuedCertificate, issue_certificate
from kofu.core.clock import Clock
from kofu.core.errors import NotFound

__all__ = ["holder_digest", "issue_for_store"]


def holder_digest(city: str, resident_code: str) -> str:
    """What the center compares before printing: whose certificate this is, without naming them."""
    return hashlib.sha256(f"{city}:{resident_code}".encode()).hexdigest()


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
        card = uow.cards.card_by_auth_serial(auth_serial.lower())
        check_card(card, clock.today())
        assert card is not None
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
