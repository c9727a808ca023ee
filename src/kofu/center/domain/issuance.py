"""An issuance in the center's log: its states, the moves between them, the checks on an answer.

Every issuance is one entry keyed by the kiosk's request id, so a retried
request never issues twice or charges twice; only a confirmed print is
charged.  The states and the only moves between them::

    requested ──(the city's answer checked, stamped)──▶ rendered ──(kiosk printed)──▶ printed
        │ ▲                                                │
        │ └─(answer lost: kept, asked again under its id)  └─(print failed / timeout)──▶ voided
        └──(refused, mis-issuance, the city never issued)─────────────────────────────▶ voided

Before a print job leaves, the holder digest the city returned must equal
the one expected for the authenticated certificate, and the content digest
the city declares must be the digest of the bytes that came: a mismatch
voids the issuance, raises an alarm and stops that city (the failure at
Yokohama, Kawasaki and Takamatsu, made impossible).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from kofu.center.domain.auth import other_kiosk
from kofu.contracts.juki import IdentityReport
from kofu.contracts.store import IssueOptions, StoreAnswer, StoreRequest
from kofu.core.errors import Conflict, InvalidInput, Refused

__all__ = [
    "PRINTED",
    "PRINT_TIMEOUT",
    "PRINT_TIMEOUT_REASON",
    "RENDERED",
    "REQUESTED",
    "REQUEST_LEASE",
    "UNANSWERED",
    "VOIDED",
    "Alarm",
    "Asked",
    "Issuance",
    "PrintJob",
    "answer_mismatch",
    "check_copies",
    "check_retry",
    "city_stopped",
    "content_mismatch",
    "job_of",
    "record_removed",
    "record_unknown",
    "recovered_state",
    "stopped_after_check",
    "store_request",
]

REQUESTED, RENDERED, PRINTED, VOIDED = "requested", "rendered", "printed", "voided"

PRINT_TIMEOUT = timedelta(minutes=5)  # a print job not confirmed by then is voided whole
# A request still ``requested`` this long after its last step has lost its worker (longer
# than the link waits for a city); a retry or the sweep then recovers it from the city.
REQUEST_LEASE = timedelta(seconds=45)
UNANSWERED = "city_unanswered"  # reason kept on a requested issuance whose answer was lost
PRINT_TIMEOUT_REASON = "print timeout"

_REMOVED = {  # juki's state of the holding record → what the kiosk says
    "moved_out": "転出により住民登録がありません。転入先の市区町村で手続きをしてください。",
    "deceased": "この住民票は消除されています。市区町村の窓口にお問い合わせください。",
}


@dataclass(frozen=True)
class Issuance:
    """One entry of the issuance log (交付記録), as stored."""

    request_id: str
    state: str  # requested, rendered, printed, voided
    auth_serial: str
    city: str
    certificate: str
    copies: int
    fee: int  # yen for all copies; charged only when printed
    store: str
    chain: str
    created_at: datetime
    updated_at: datetime
    holder_digest: str | None = None  # what the city's answer must carry (None: from before)
    content_digest: str | None = None
    reason: str | None = None
    print_job: bytes | None = None  # the stamped PDF until printed or voided, then dropped
    kiosk: str = ""  # only the kiosk that asked confirms or voids


@dataclass(frozen=True)
class Alarm:
    """Something the operator must look into; one naming a city stops that city's issuance."""

    at: datetime
    city: str  # "" names no city (a card's failed sign-ins): nothing stops
    kind: str
    detail: str


@dataclass(frozen=True)
class PrintJob:
    request_id: str
    certificate: str
    city: str
    copies: int
    fee: int
    pdf: bytes
    state: str
    holder_digest: str = ""


@dataclass(frozen=True)
class Asked:
    """What the center asked a city under a request id, and what the answer must carry."""

    request_id: str
    city: str
    certificate: str
    copies: int
    expected: str | None  # the holder digest the answer must carry (None: an entry from before)
    at: datetime

    @classmethod
    def of(cls, issuance: Issuance) -> Asked:
        i = issuance
        return cls(i.request_id, i.city, i.certificate, i.copies, i.holder_digest, i.created_at)

    def requested(self, serial: str, store: str, chain: str, kiosk: str) -> Issuance:
        """The new log entry: requested, nothing charged, the holder digest to expect."""
        return Issuance(
            request_id=self.request_id,
            state=REQUESTED,
            auth_serial=serial,
            city=self.city,
            certificate=self.certificate,
            copies=self.copies,
            fee=0,
            store=store,
            chain=chain,
            created_at=self.at,
            updated_at=self.at,
            holder_digest=self.expected,
            kiosk=kiosk,
        )


def check_copies(copies: int) -> None:
    if not 1 <= copies <= 10:
        raise InvalidInput("copies is 1 to 10", field="copies")


def store_request(
    request_id: str,
    serial: str,
    certificate: str,
    options: IssueOptions,
    domicile_city: str | None,
) -> StoreRequest:
    """What the city is asked: the card (never a person), the certificate, the options."""
    return StoreRequest.checked(  # an unknown certificate is 422 here, before any entry
        {
            "request_id": request_id,
            "auth_serial": serial,
            "certificate": certificate,
            "options": options,
            "route": "residence" if domicile_city is None else "domicile",
        }
    )


def check_retry(
    issuance: Issuance,
    serial: str,
    kiosk: str,
    certificate: str,
    copies: int,
    domicile_city: str | None,
) -> None:
    """A request id used again must be the same card, kiosk and request; else 409 (or 403)."""
    if issuance.auth_serial != serial:
        raise Conflict("this request id belongs to another card", field="request_id")
    if issuance.kiosk != kiosk:
        raise other_kiosk()
    if (
        issuance.certificate != certificate
        or issuance.copies != copies
        or (domicile_city is not None and domicile_city != issuance.city)
    ):
        raise Conflict(
            f"request id {issuance.request_id} was used for another request; "
            "a new request needs a new request id",
            field="request_id",
        )


def job_of(issuance: Issuance) -> PrintJob:
    """The print job a rendered issuance keeps; any other state is 409 naming it."""
    i = issuance
    if i.state == REQUESTED:
        raise Conflict(
            f"request {i.request_id} is in progress; ask again shortly", field="request_id"
        )
    if i.state != RENDERED:
        raise Conflict(f"request {i.request_id} is already {i.state}", field="request_id")
    return PrintJob(
        i.request_id,
        i.certificate,
        i.city,
        i.copies,
        i.fee,
        bytes(i.print_job or b""),
        i.state,
        i.holder_digest or "",
    )


def answer_mismatch(asked: Asked, answer: StoreAnswer) -> tuple[str, str] | None:
    """The holder check: another request's or another person's answer is (kind, detail)."""
    if answer.request_id != asked.request_id or answer.holder_digest != asked.expected:
        return "holder_mismatch", f"request {asked.request_id}: returned {answer.request_id}"
    return None


def content_mismatch(asked: Asked, pdf: bytes, declared: str) -> tuple[str, str] | None:
    """The content check: bytes that are not the ones the city declared are (kind, detail)."""
    if hashlib.sha256(pdf).hexdigest() != declared:
        detail = f"request {asked.request_id}: the document's bytes do not match its content digest"
        return "content_mismatch", detail
    return None


def recovered_state(
    told: str, told_reason: str | None, expected_known: bool, stopped: bool
) -> tuple[str, str | None]:
    """What a stuck issuance becomes from what its city says it did under the request id.

    ("complete", None): the city issued, check and complete its answer;
    ("voided", reason): void it; ("requested", None): leave it for the next turn.
    """
    if stopped:
        return VOIDED, "service_stopped"
    if told == "issued" and not expected_known:  # asked before digests were kept
        return VOIDED, "holder_unverifiable"
    if told == "issued":
        return "complete", None
    if told == "refused":
        return VOIDED, str(told_reason)
    if told == "abandoned":
        return VOIDED, "city_never_issued"
    return REQUESTED, None


def city_stopped(city: str) -> Refused:
    return Refused(
        "service_stopped",
        f"issuance for {city} is stopped after an alarm",
        message_ja="この市区町村の証明書は、現在交付を停止しています。",
    )


def stopped_after_check(kind: str) -> Refused:
    return Refused(
        "service_stopped",
        f"the city's answer failed the center's check ({kind}); issuance stopped",
        message_ja="システムの異常を検知したため、交付を停止しました。",
    )


def record_unknown() -> Refused:
    return Refused(
        "record_unknown",
        "no city has reported the holder's resident record to juki",
        message_ja="住民登録の確認ができません。市区町村の窓口にお問い合わせください。",
    )


def record_removed(held: IdentityReport) -> Refused:
    """juki says the holder's last record is removed: moved out or deceased."""
    return Refused(
        f"record_{held.state}",
        f"the holder's last resident record (city {held.city}) is removed: "
        f"{held.state} since {held.since}",
        message_ja=_REMOVED.get(held.state, _REMOVED["deceased"]),
    )
