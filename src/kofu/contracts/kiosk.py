"""kiosk ↔ center: the stores' line (mutual TLS), the only door a kiosk has.

``POST /sessions`` → ``SessionOpened``; ``POST /sessions/{id}/authenticate``:
``SignIn`` → ``SignedIn``; ``POST /sessions/{id}/end`` → ``SessionEnded``
(the resident left: 中止 or idle; the session is never used again; only
its own kiosk ends it); ``POST /issuances``: ``IssuanceRequest`` →
``PrintJob``; ``POST /issuances/{id}/printed`` and ``…/voided``
(``VoidRequest``) → ``PrintSettled``; ``GET /cities`` → a list of
``ConnectedCity``; ``POST /domicile-registrations``: ``DomicileRequest`` →
``DomicileAnswer`` (kofu.contracts.identity, as the domicile city answered).
The options a resident chose travel on to the city as they are
(``IssueOptions``, kofu.contracts.store).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictStr

from kofu.contracts import CityCode, Contract, Digest, Integer, NotText, RequestId
from kofu.contracts.store import Certificate, IssueOptions
from kofu.core.text import PlainText

__all__ = [
    "ConnectedCity",
    "DomicileRequest",
    "IssuanceRequest",
    "PrintJob",
    "PrintSettled",
    "SessionEnded",
    "SessionOpened",
    "SignIn",
    "SignedIn",
    "VoidRequest",
]

Session = Annotated[StrictStr, Field(min_length=1, max_length=128)]
Base64 = Annotated[StrictStr, Field(min_length=1, max_length=65536)]
StoreName = Annotated[PlainText, Field(strict=True, max_length=32)]


class SessionOpened(Contract):
    """A session for one card and one request, and the one-time challenge the card signs."""

    session: Session
    challenge_b64: Base64


class SignIn(Contract):
    """The card's user-authentication certificate and its signature over the challenge."""

    certificate_b64: Base64  # DER
    signature_b64: Base64


class SessionEnded(Contract):
    """The session is ended: no request is ever made on it again."""

    session: Annotated[StrictStr, Field(max_length=64)]
    ended: Literal[True]


class SignedIn(Contract):
    """The card signed in; the session is good until its certificate's end at the latest."""

    authenticated: Literal[True]
    valid_until: datetime


class IssuanceRequest(Contract):
    """What the resident chose at the machine, under the kiosk's request id."""

    session: Session
    request_id: RequestId
    certificate: Certificate
    options: IssueOptions = IssueOptions()
    copies: Annotated[int, Field(ge=1, le=10), NotText] = 1
    store: StoreName  # the store's code
    chain: StoreName  # the chain settled with (月次精算)
    domicile_city: CityCode | None = None  # the 本籍地 route, for family-register documents


class PrintJob(Contract):
    """The city's document with the center's anti-forgery layer, and what it costs."""

    request_id: RequestId
    city: CityCode
    certificate: Certificate
    copies: Integer
    fee: Annotated[int, Field(ge=0), NotText]  # for every copy together, in yen
    holder_digest: Digest | Literal[""] = ""
    pdf_base64: StrictStr


class VoidRequest(Contract):
    """The print failed (or the resident left): the issuance is voided whole, uncharged."""

    reason: Annotated[PlainText, Field(strict=True, max_length=1000)] = "print failure"  # 200 kept


class PrintSettled(Contract):
    """The issuance after the kiosk's word: printed (charged) or voided (not)."""

    request_id: Annotated[StrictStr, Field(max_length=64)]
    state: Literal["printed", "voided"]


class ConnectedCity(Contract):
    """A city taking part, for the resident's choice of domicile city."""

    code: CityCode
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class DomicileRequest(Contract):
    """本籍地利用登録 at a kiosk: the domicile city, and the 本籍・筆頭者 as the resident typed."""

    session: Session
    city: CityCode
    domicile: Annotated[PlainText, Field(strict=True, min_length=1, max_length=128)]
    head_name: Annotated[PlainText, Field(strict=True, min_length=1, max_length=64)]
