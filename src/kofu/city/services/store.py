"""The city's certificate issuance server (証明発行サーバ): store requests from authenticated cards.

The issuance center tells the city which user-authentication certificate
signed in; the city finds its own card record for it, applies the store
rules, and issues for that card's holder only — the request cannot name
anyone else.  What it answered under each request id is kept with the
issuance (kofu.city.domain.store_requests), so a retry never issues twice.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kofu.city.domain.activity import Activity, ActivityKind
from kofu.city.domain.certificates import CertificateType, IssueRequest
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.domain.store_requests import (
    KeptAnswer,
    RequestIdTaken,
    outcome,
    replay,
    request_digest,
)
from kofu.city.domain.store_rules import StoreRules, check_card, check_store_request
from kofu.city.services.activity import record_activity
from kofu.city.services.domicile import issue_from_domicile
from kofu.city.services.issuance import IssuedCertificate, Keep, issue_certificate
from kofu.contracts.store import (
    PrintRecorded,
    PrintRefused,
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrinted,
    StorePrints,
    StoreRequest,
)
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.core.holder import holder_digest

__all__ = [
    "abandon_store_request",
    "answer_store_request",
    "holder_digest",
    "issue_for_store",
    "record_store_print",
    "record_store_prints",
    "store_request_outcome",
]


# the counter's names for the options (the CLI's) → the store request's (kofu.contracts.store)
_STORE_FIELDS = {"type": "certificate", "with": "items", "year": "fiscal_year"}


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
    keep: Keep | None = None,
) -> IssuedCertificate:
    """Issue for the holder of the card whose certificate authenticated, or refuse with a reason."""
    with uow.reading():
        card = check_card(uow.cards.card_by_auth_serial(auth_serial.lower()), clock.today())
        resident_code = card.resident_code
    try:
        request = IssueRequest.parse(
            type=type,
            resident_code=resident_code,
            household=household,
            members=members,
            items=items,
            fiscal_year=fiscal_year,
        )
    except InvalidInput as exc:  # named as the store request names it, not as the counter's
        exc.field = _STORE_FIELDS.get(exc.field or "", exc.field)
        raise

    def store_rules(inner: CityUnitOfWork, now: datetime) -> None:
        person = inner.registers.resident(resident_code)
        if person is None:
            raise NotFound("the card's holder has no record here", field="resident")
        household_members = inner.registers.household(person.household_id)
        check_store_request(rules, request, person, household_members, now)

    return issue_certificate(
        uow=uow, request=request, clock=clock, channel="store", precheck=store_rules, keep=keep
    )


def answer_store_request(
    *, uow: CityUnitOfWork, code: str, rules: StoreRules, clock: Clock, request: StoreRequest
) -> StoreAnswer:
    """The certificate server's answer to the center: the PDF with its digests and fee.

    Once per request id: the answer (or refusal) is kept with the issuance,
    and the same id asked again gets it back, never a second issue number;
    the same id with another request is refused (409 ``request_id_reused``).
    """
    request_id = request.request_id
    digest = request_digest(request.model_dump(mode="json"))
    with uow.reading():
        kept = uow.store_requests.get(request_id)
    if kept is not None:
        return StoreAnswer.model_validate(replay(kept, digest))
    answered: list[dict[str, Any]] = []

    def keep(inner: CityUnitOfWork, issued: IssuedCertificate) -> None:
        answer = _answer(code, rules, request, issued)
        inner.store_requests.keep(
            KeptAnswer(request_id, digest, "issued", answer, issued.pdf, issued.issue_number),
            at=clock.now(),
        )
        answered.append(answer)

    try:
        issued = _issue(uow, rules, clock, request, keep)
    except Refused as refusal:
        if _keep_refusal(uow, clock, request_id, digest, refusal):
            raise
        return _replay_kept(uow, request_id, digest)  # another answer was kept first
    except RequestIdTaken:  # the same request id at once: the first one's answer stands
        return _replay_kept(uow, request_id, digest)
    pdf = base64.b64encode(issued.pdf).decode()
    return StoreAnswer.model_validate(answered[0] | {"pdf_base64": pdf})


def _issue(
    uow: CityUnitOfWork, rules: StoreRules, clock: Clock, request: StoreRequest, keep: Keep
) -> IssuedCertificate:
    """The store's issuance by the residence route, or by the domicile route (本籍地)."""
    if request.route == "domicile":
        return issue_from_domicile(
            uow=uow,
            auth_serial=request.auth_serial,
            type=request.certificate,
            rules=rules,
            clock=clock,
            keep=keep,
        )
    options = request.options
    return issue_for_store(
        uow=uow,
        auth_serial=request.auth_serial,
        type=request.certificate,
        household=options.household,
        members=options.members,
        items=options.items,
        fiscal_year=options.fiscal_year,
        rules=rules,
        clock=clock,
        keep=keep,
    )


def _answer(
    code: str, rules: StoreRules, request: StoreRequest, issued: IssuedCertificate
) -> dict[str, Any]:
    """The answer without the PDF: what is kept, and sent with the PDF.

    From the domicile city (``route: domicile``) the holder is known by the
    family register only, so the holder digest is the identity digest of the
    registered person, which the center compares with the residence city's.
    """
    if request.route == "domicile":
        digest = issued.holder_identity
    else:
        digest = holder_digest(code, issued.resident_code)
    return {
        "request_id": request.request_id,
        "city": code,
        "certificate": issued.certificate,
        "issue_number": issued.issue_number,
        "content_digest": issued.content_digest,
        "holder_digest": digest,
        "holder_name": issued.holder_name,
        "fee": rules.fee(CertificateType(issued.certificate)),
    }


def _keep_refusal(
    uow: CityUnitOfWork, clock: Clock, request_id: str, digest: str, refusal: Refused
) -> bool:
    """Keep a refusal under its request id; False when another answer was kept first."""
    words = {"reason": refusal.reason, "message": refusal.message, "message_ja": refusal.message_ja}
    try:
        with uow:
            uow.store_requests.keep(
                KeptAnswer(request_id, digest, "refused", words), at=clock.now()
            )
            record_activity(
                uow,
                ActivityKind.CERTIFICATE_REFUSED,
                clock.now(),
                ref=f"store-refused:{request_id}",
                channel="store",
                cause=refusal.reason[:64],
            )
            uow.commit()
    except RequestIdTaken:
        return False
    return True


def _replay_kept(uow: CityUnitOfWork, request_id: str, digest: str) -> StoreAnswer:
    with uow.reading():
        kept = uow.store_requests.get(request_id)
    assert kept is not None, "a request id taken is kept"
    return StoreAnswer.model_validate(replay(kept, digest))


def store_request_outcome(*, uow: CityUnitOfWork, request_id: str) -> StoreOutcome:
    """What the city did under a request id: issued (with the answer), refused, or unknown."""
    with uow.reading():
        return StoreOutcome.model_validate(outcome(request_id, uow.store_requests.get(request_id)))


def abandon_store_request(*, uow: CityUnitOfWork, request_id: str, clock: Clock) -> StoreOutcome:
    """Close a request id the city has no answer for, so nothing is ever issued under it.

    The center gives up a request only after asking this; an issuance still
    under way under the id then fails at its last write (the kept answer and
    the issuance log go together), so "abandoned" stays true.  An id the
    city did answer keeps its answer, which is returned.
    """
    try:
        with uow:
            if uow.store_requests.get(request_id) is None:
                uow.store_requests.keep(KeptAnswer(request_id, "", "abandoned", {}), at=clock.now())
                uow.commit()
    except RequestIdTaken:
        pass  # answered (or closed) at the same moment: that answer stands
    return store_request_outcome(uow=uow, request_id=request_id)


def record_store_print(
    *, uow: CityUnitOfWork, code: str, notice: StorePrinted, clock: Clock
) -> PrintRecorded:
    """The center confirms a kiosk printed a request this city answered: count it once.

    One print is a batch of one (``record_store_prints``); a request id the
    city did not issue under is refused (404, 409) and counts nothing.
    """
    done = record_store_prints(
        uow=uow, code=code, notices=StorePrints(prints=[notice]), clock=clock
    )
    if done.refused:
        refused = done.refused[0]
        if refused.reason == "unknown_request":
            raise NotFound(f"no store request {notice.request_id} here", field="request_id")
        raise Conflict(f"store request {notice.request_id} was not issued", field="request_id")
    return done.recorded[0]


def _print_activity(notice: StorePrinted, kept: KeptAnswer, now: datetime) -> Activity:
    """certificate.issued at the store, of the type the city issued, once under the request id."""
    return Activity(
        kind=ActivityKind.CERTIFICATE_ISSUED,
        occurred_at=min(notice.printed_at, now),
        ref=f"store:{notice.request_id}",
        channel="store",
        doc_type=str(kept.answer["certificate"]),
        copies=notice.copies,
        fee_yen=notice.fee,
        detail={"chain": notice.chain, "issue_number": kept.issue_number},
    )


def record_store_prints(
    *, uow: CityUnitOfWork, code: str, notices: StorePrints, clock: Clock
) -> PrintsRecorded:
    """Prints the center confirmed, counted in one transaction, each once under its request id.

    The certificate type is the one the city itself issued under the request
    id (its kept answer), never the center's word; a request id the city did
    not issue under is refused and counts nothing.  The print's time is the
    center's, unless it lies in the city's future.  A message naming another
    city is refused whole: it was sent to the wrong place.
    """
    for notice in notices.prints:
        if notice.city != code:
            raise InvalidInput(f"this is city {code}, not {notice.city}", field="city")
    now = clock.now()
    refused: list[PrintRefused] = []
    counted: list[tuple[StorePrinted, Activity]] = []
    with uow:
        kept = uow.store_requests.answered([notice.request_id for notice in notices.prints])
        for notice in notices.prints:
            answer = kept.get(notice.request_id)
            if answer is None or answer.state != "issued":
                why = "unknown_request" if answer is None else "not_issued"
                refused.append(PrintRefused(request_id=notice.request_id, reason=why))
            else:
                counted.append((notice, _print_activity(notice, answer, now)))
        made = uow.activity.append_each([activity for _, activity in counted])
        uow.commit()
    recorded = [
        PrintRecorded(
            request_id=notice.request_id, state="already" if ident is None else "recorded"
        )
        for (notice, _), ident in zip(counted, made, strict=True)
    ]
    return PrintsRecorded(recorded=recorded, refused=refused)
