"""Wide-area residence certificates (広域交付住民票, 住基法12条の4), both cities' sides.

At the issuing city's counter a resident of another city shows photo ID;
the issuing city asks juki which city keeps the record, asks that city (the
home city) over LGWAN, and prints the answer on its own paper with its own
certification, number and fee.  The home city applies its own rules
(support measures, issuance blocks, removed records) and answers the content
only: never 本籍・筆頭者, never the address history.  Each city records every
certificate under the request id (the statistics of both, and the same
answer for a retry).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.certificates import (
    CertificateType,
    Document,
    Holder,
    Issuer,
    IssueRequest,
    Item,
    ResidenceCertificate,
)
from kofu.city.domain.citylink import KeptWideArea
from kofu.city.domain.issuance import compose
from kofu.city.domain.model import Address, Resident, Sex
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.services.activity import record_activity
from kofu.city.services.issuance import IssuedCertificate, issue_certificate
from kofu.city.services.layout import certificate_of
from kofu.contracts.citylink import (
    CertifiedResident,
    CitylinkAddress,
    CitylinkRefusal,
    WideAreaAnswer,
    WideAreaRequest,
)
from kofu.contracts.juki import IdentityReport
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, NotFound, Refused
from kofu.core.identifiers import ResidentCode
from kofu.documents.render import content_digest, render

__all__ = ["WideAreaIssued", "answer_wide_area", "issue_wide_area", "wide_area_statistics"]

ALLOWED_ITEMS = ("head", "individual_number", "resident_code")
_NEVER = {  # what a wide-area certificate can never carry, and why in words
    "domicile": "本籍・筆頭者 are never printed on a wide-area certificate (住基法12条の4)",
    "foreign": "a wide-area certificate carries no residence-card items",
}


class HomeCities(Protocol):
    """What the issuing side needs of the network (kofu.city.adapters.citylink.CityLink)."""

    def whereabouts(self, resident_code: str) -> IdentityReport: ...

    def wide_area(self, home_city: str, request: WideAreaRequest) -> WideAreaAnswer: ...


def _digest(request: WideAreaRequest) -> str:
    body = request.model_dump(mode="json", exclude={"request_id"})
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# --- the home city (住所地市町村) ----------------------------------------------------------


def _refused(request: WideAreaRequest, code: str, name: str, refusal: Refused) -> WideAreaAnswer:
    """A refusal that tells the issuing city no more than a reason code.

    A support-measure subject or a blocked record is refused with one neutral
    code and words, so the other city's clerk cannot learn why (DV/stalking
    victims are found by asking exactly that).
    """
    if refusal.reason in ("support_measure", "issuance_blocked"):
        words = CitylinkRefusal(
            reason="wide_area_refused",
            message="the home city does not issue this certificate through the network; "
            "the person may ask at the home city's counter",
            message_ja="この住民票は広域交付できません。住所地の市区町村の窓口にお問い合わせください。",
        )
    else:
        words = CitylinkRefusal(
            reason=refusal.reason,
            message=refusal.message,
            message_ja=refusal.message_ja or "この住民票は広域交付できません。",
        )
    return WideAreaAnswer(
        request_id=request.request_id,
        home_city=code,
        home_city_name=name,
        state="refused",
        refusal=words,
    )


def _address(a: Address | None) -> CitylinkAddress | None:
    if a is None:
        return None
    return CitylinkAddress(
        postal_code=a.postal_code,
        prefecture=a.prefecture,
        city=a.city,
        town=a.town,
        block=a.block,
        building=a.building,
    )


def _certified(p: Resident, items: set[str]) -> CertifiedResident:
    """What the certificate says of one member: nothing of 本籍, 筆頭者 or the address history."""
    return CertifiedResident(
        name=p.name,
        kana=p.kana,
        birth_date=p.birth_date,
        sex=p.sex.value,
        relationship=p.relationship,
        became_resident_on=p.became_resident_on,
        address_set_on=p.address_set_on,
        notified_on=p.notified_on,
        previous_address=_address(p.previous_address),
        nationality=p.foreign.nationality if p.foreign else None,
        individual_number=p.individual_number if "individual_number" in items else None,
        resident_code=p.resident_code if "resident_code" in items else None,
    )


def _compose_answer(
    uow: CityUnitOfWork, request: WideAreaRequest, code: str, name: str, now: datetime
) -> WideAreaAnswer:
    issue = IssueRequest.parse(
        type="juminhyo",
        resident_code=request.resident,
        household=None if request.members else request.household,
        members=list(request.members),
        items=list(request.items),
    )
    try:
        doc = compose(uow.registers, uow.city(), issue, now=now, issue_number=0)
    except NotFound:
        return _refused(
            request,
            code,
            name,
            Refused(
                "record_unknown",
                "the home city keeps no record under this resident code",
                message_ja="住所地の市区町村に該当する住民票がありません。",
            ),
        )
    except Refused as refusal:
        return _refused(request, code, name, refusal)
    content = doc.content
    assert isinstance(content, ResidenceCertificate)
    items: set[str] = set(request.items)
    return WideAreaAnswer(
        request_id=request.request_id,
        home_city=code,
        home_city_name=name,
        state="issued",
        address=_address(content.members[0].address),
        household_head=content.household_head,
        whole_household=content.whole_household,
        items=request.items,
        members=tuple(_certified(m, items) for m in content.members),
        subjects=doc.subjects,
    )


def answer_wide_area(
    *, uow: CityUnitOfWork, code: str, clock: Clock, request: WideAreaRequest
) -> WideAreaAnswer:
    """The home city's answer, kept under the request id: a retry gets the same answer."""
    if request.issuing_city == code:
        raise InvalidInput(
            "a city issues its own residents' certificates at its counter", field="issuing_city"
        )
    ResidentCode(request.resident)
    if request.household == "members" and not request.members:
        raise InvalidInput("household members needs the members' resident codes", field="members")
    digest = _digest(request)
    now = clock.now()
    with uow:
        uow.registers.today = now.date()
        kept = uow.citylink.wide_area(request.request_id, "home")
        if kept is not None:
            return _again(kept, digest)
        profile = uow.city()
        answer = _compose_answer(uow, request, code, profile.full_name, now)
        uow.citylink.keep_wide_area(
            KeptWideArea(
                request_id=request.request_id,
                role="home",
                issuing_city=request.issuing_city,
                home_city=code,
                resident_code=request.resident,
                issued_on=now.date(),
                state=answer.state,
                reason=answer.refusal.reason if answer.refusal else None,
                issue_number=None,
                request_digest=digest,
                answer=answer.model_dump(mode="json"),
            ),
            now,
        )
        if answer.state == "issued":  # 広域住民票: this city sent its resident's data (住所地)
            record_activity(
                uow,
                ActivityKind.WIDEAREA_JUMINHYO,
                now,
                ref=f"widearea:home:{request.request_id}",
                role="residence",
            )
        uow.commit()
    return answer


def _again(kept: KeptWideArea, digest: str) -> WideAreaAnswer:
    if kept.request_digest != digest:
        raise Conflict(
            f"request id {kept.request_id} was used for another request; "
            "a new request needs a new request id",
            field="request_id",
        )
    return WideAreaAnswer.model_validate(kept.answer)


# --- the issuing city (交付地市町村) --------------------------------------------------------


@dataclass(frozen=True)
class WideAreaIssued:
    """What the counter hands over, and what both cities counted."""

    request_id: str
    issuing_city: str
    home_city: str
    certificate: IssuedCertificate
    fee: int | None
    reprint: bool  # the same certificate again, for a retried request id


def _resident_of(m: CertifiedResident, code: str, answer: WideAreaAnswer) -> Resident:
    """A register record for the layout, made of the home city's answer and nothing else."""
    assert answer.address is not None
    return Resident(
        resident_code=m.resident_code or code,
        individual_number=m.individual_number or "",
        name=m.name,
        kana=m.kana,
        birth_date=m.birth_date,
        sex=Sex(m.sex),
        address=Address(**answer.address.model_dump(exclude={"v"})),
        household_id="",
        relationship=m.relationship,
        household_head_name=answer.household_head or "",
        became_resident_on=m.became_resident_on,
        address_set_on=m.address_set_on,
        notified_on=m.notified_on,
        previous_address=(
            Address(**m.previous_address.model_dump(exclude={"v"})) if m.previous_address else None
        ),
    )


def _document(answer: WideAreaAnswer, resident: str, issuer: Issuer) -> Document:
    members = tuple(_resident_of(m, resident, answer) for m in answer.members)
    content = ResidenceCertificate(
        members=members,
        items=frozenset(Item(i) for i in answer.items),
        whole_household=answer.whole_household,
        removed=False,
        history=False,
        household_head=answer.household_head or "",
    )
    holder = Holder(name=members[0].name, resident_code=resident, identity="")
    return Document(
        type=CertificateType.JUMINHYO,
        content=content,
        issuer=issuer,
        holder=holder,
        subjects=answer.subjects,
    )


def _check_items(items: list[str]) -> tuple[str, ...]:
    for item in items:
        if item in _NEVER:
            raise InvalidInput(_NEVER[item], field="with")
        if item not in ALLOWED_ITEMS:
            raise InvalidInput(
                f"unknown item {item!r}; one of {', '.join(ALLOWED_ITEMS)}", field="with"
            )
    return tuple(dict.fromkeys(items))


def _home_of(network: HomeCities, resident: str, code: str) -> str:
    held = network.whereabouts(resident)
    if held.state != "resident":
        raise Refused(
            f"record_{held.state}",
            f"the person's last record (city {held.city}) is removed: {held.state}",
            message_ja="住民票が消除されているため広域交付できません。",
        )
    if held.city == code:
        raise InvalidInput(
            "this person lives in this city: issue at the counter (kofu issue)", field="resident"
        )
    return held.city


def issue_wide_area(
    *,
    uow: CityUnitOfWork,
    code: str,
    clock: Clock,
    network: HomeCities,
    request_id: str,
    resident: str,
    id_check: str,
    household: str | None = None,
    members: list[str] | None = None,
    items: list[str] | None = None,
    fee: int | None = None,
) -> WideAreaIssued:
    """Ask the home city and print its answer here; a refusal raises with its reason code."""
    request = WideAreaRequest.checked(
        {
            "request_id": request_id,
            "issuing_city": code,
            "resident": resident,
            "id_check": id_check,
            "household": "members" if members else (household or "self"),
            "members": members or [],
            "items": _check_items(items or []),
        }
    )
    ResidentCode(request.resident)
    with uow:
        kept = uow.citylink.wide_area(request.request_id, "issuing")
        profile = uow.city()
    if kept is not None:
        return _reprint(kept, _digest(request), profile, clock, fee)
    home = _home_of(network, request.resident, code)
    answer = network.wide_area(home, request)
    if answer.request_id != request.request_id or answer.home_city != home:
        raise Refused("city_unavailable", f"city {home} answered another request")
    if answer.state == "refused":
        _keep_refusal(uow, request, answer, clock)
        assert answer.refusal is not None
        raise Refused(
            answer.refusal.reason, answer.refusal.message, message_ja=answer.refusal.message_ja
        )

    def keep(u: CityUnitOfWork, issued: IssuedCertificate) -> None:
        u.citylink.keep_wide_area(
            _issuing_row(request, answer, "issued", issued.issue_number, clock.today()),
            clock.now(),
        )
        record_activity(  # 広域住民票 issued here (交付地), counted by the evaluation sheets
            u,
            ActivityKind.WIDEAREA_JUMINHYO,
            clock.now(),
            ref=f"widearea:issuing:{request.request_id}",
            role="issuing",
            doc_type="juminhyo",
        )

    issued = issue_certificate(
        uow=uow,
        request=IssueRequest(type=CertificateType.JUMINHYO, resident_code=request.resident),
        clock=clock,
        channel="wide_area",
        composer=lambda u, now: _document(answer, request.resident, Issuer(u.city(), now, 0)),
        keep=keep,
    )
    return WideAreaIssued(request.request_id, code, home, issued, fee, reprint=False)


def _issuing_row(
    request: WideAreaRequest,
    answer: WideAreaAnswer,
    state: str,
    issue_number: int | None,
    today: date,
) -> KeptWideArea:
    return KeptWideArea(
        request_id=request.request_id,
        role="issuing",
        issuing_city=request.issuing_city,
        home_city=answer.home_city,
        resident_code=request.resident,
        issued_on=today,
        state=state,
        reason=answer.refusal.reason if answer.refusal else None,
        issue_number=issue_number,
        request_digest=_digest(request),
        answer=answer.model_dump(mode="json"),
    )


def _keep_refusal(
    uow: CityUnitOfWork, request: WideAreaRequest, answer: WideAreaAnswer, clock: Clock
) -> None:
    assert answer.refusal is not None
    with uow:
        uow.citylink.keep_wide_area(
            _issuing_row(request, answer, "refused", None, clock.today()), clock.now()
        )
        record_activity(  # refused at this counter, shown by reason on the dashboard
            uow,
            ActivityKind.CERTIFICATE_REFUSED,
            clock.now(),
            ref=f"widearea-refused:{request.request_id}",
            channel="wide_area",
            cause=answer.refusal.reason[:64],
        )
        uow.commit()


def _reprint(
    kept: KeptWideArea, digest: str, profile: Any, clock: Clock, fee: int | None
) -> WideAreaIssued:
    """A retried request id: the same refusal, or the same certificate under the same number."""
    answer = _again(kept, digest)
    if answer.refusal is not None:
        raise Refused(
            answer.refusal.reason, answer.refusal.message, message_ja=answer.refusal.message_ja
        )
    assert kept.issue_number is not None
    issued_at = datetime.combine(kept.issued_on, clock.now().timetz())
    doc = _document(answer, kept.resident_code, Issuer(profile, issued_at, kept.issue_number))
    pdf = render(certificate_of(doc))
    issued = IssuedCertificate(
        pdf=pdf,
        issue_number=kept.issue_number,
        certificate=CertificateType.JUMINHYO.value,
        resident_code=kept.resident_code,
        holder_name=doc.holder.name,
        subjects=doc.subjects,
        content_digest=content_digest(pdf),
        pages=pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages"),
    )
    return WideAreaIssued(
        kept.request_id, kept.issuing_city, kept.home_city, issued, fee, reprint=True
    )


def wide_area_statistics(*, uow: CityUnitOfWork, since: date, until: date) -> list[dict[str, Any]]:
    """Wide-area certificates issued here for other cities, and for this city's residents."""
    with uow:
        return uow.citylink.wide_area_counts(since, until)
