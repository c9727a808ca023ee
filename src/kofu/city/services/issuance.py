"""Issuing a certificate at the counter (窓口交付): compose, render, number and log it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kofu.city.domain.activity import ActivityKind
from kofu.city.domain.certificates import (
    STORE_STATION,
    Deputy,
    Document,
    Holder,
    IssueRequest,
    Station,
)
from kofu.city.domain.issuance import compose
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.services.activity import record_activity
from kofu.city.services.layout import certificate_of
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput, Refused
from kofu.documents.fonts import register_fonts
from kofu.documents.layouts import overflowing
from kofu.documents.render import content_digest, render

__all__ = [
    "MAX_COPIES",
    "IssuedCertificate",
    "issue_certificate",
    "issue_certificates",
    "preview_certificate",
    "record_refusal",
]

MAX_COPIES = 20  # a counter request; more is a bulk job (一括発行), not a copy count


@dataclass(frozen=True)
class IssuedCertificate:
    """The PDF and what the issuance log keeps of it."""

    pdf: bytes
    issue_number: int
    certificate: str
    resident_code: str
    holder_name: str
    subjects: tuple[str, ...]
    content_digest: str
    pages: int
    holder_identity: str = ""  # set when the holder is known only from a family register
    issue_label: str = ""  # 発行番号 as printed on every page (jyuki-stnd 5.5)
    warnings: tuple[str, ...] = ()  # alert-level blocks the clerk must see (j410)


Precheck = Callable[[CityUnitOfWork, datetime], None]
Composer = Callable[[CityUnitOfWork, datetime], Document]
Keep = Callable[[CityUnitOfWork, "IssuedCertificate"], None]


def issue_certificate(
    *,
    uow: CityUnitOfWork,
    request: IssueRequest,
    clock: Clock,
    channel: str = "counter",
    precheck: Precheck | None = None,
    composer: Composer | None = None,
    keep: Keep | None = None,
    station: Station | None = None,
    fee_yen: int = 0,
) -> IssuedCertificate:
    """One copy; see ``issue_certificates``."""
    return issue_certificates(
        uow=uow,
        request=request,
        clock=clock,
        channel=channel,
        precheck=precheck,
        composer=composer,
        keep=keep,
        station=station,
        fee_yen=fee_yen,
    )[0]


def issue_certificates(
    *,
    uow: CityUnitOfWork,
    request: IssueRequest,
    clock: Clock,
    channel: str = "counter",
    precheck: Precheck | None = None,
    composer: Composer | None = None,
    keep: Keep | None = None,
    station: Station | None = None,
    copies: int = 1,
    fee_yen: int = 0,
    deputy: Deputy | None = None,
) -> list[IssuedCertificate]:
    """Compose and render the certificate; a refusal raises and leaves nothing behind.

    Each copy has its own 発行番号 (jyuki-stnd 5.5) and its own line in the
    issuance log with the place, terminal, staff id and copy count (1.3.8).

    ``precheck`` runs the channel's own rules (the store's) inside the same
    transaction as the composition, before anything is numbered; ``composer``
    replaces the usual composition (the domicile city's documents).  The numbers
    are reserved only once the document is sure to be issued, as the last
    statement of the composition's transaction, and the PDFs are drawn outside
    any transaction, so concurrent issuances wait for each other only for the
    counter's UPDATE and its commit, never for a render.  ``keep`` writes
    what the channel keeps of the issuance (the store's answer under its
    request id) in the same transaction as the log: both or neither.

    The activity log (``certificate.issued``, ``fee_yen`` a copy) is written
    here for every channel but the store, whose issuance counts only once the
    center confirms the print (kofu.city.services.store.record_store_print).
    """
    if not 1 <= copies <= MAX_COPIES:
        raise InvalidInput(f"copies must be 1 to {MAX_COPIES}", field="copies")
    place = station or (STORE_STATION if channel == "store" else Station())
    now = clock.now()
    try:
        with uow:
            uow.registers.today = now.date()
            city = uow.city()
            if precheck is not None:
                precheck(uow, now)
            if composer is not None:
                doc = composer(uow, now)
            else:
                doc = compose(
                    uow.registers, city, request, now=now, issue_number=0, store=channel == "store"
                )
            # Last in the transaction: the counter's row stays locked only for the commit.
            first = uow.registers.next_number("issue", copies)
            uow.commit()  # with it a record whose planned change came due, brought up to date
    except Refused as refusal:
        if channel != "store":  # the store keeps its refusals with their request id
            record_refusal(uow, refusal, now, channel=channel)
        raise
    issued = [
        _render(
            replace(doc, issuer=replace(doc.issuer, issue_number=n, station=place, deputy=deputy)),
            request,
            check=channel != "store",  # a store prints what it gets; no clerk to alert
        )
        for n in range(first, first + copies)
    ]
    with uow:
        for copy_no, one in enumerate(issued, start=1):
            uow.registers.log_issuance(
                issue_number=one.issue_number,
                at=now,
                channel=channel,
                certificate=request.type.value,
                resident_code=doc.holder.resident_code,
                digest=one.content_digest,
                detail={
                    "subjects": list(doc.subjects),
                    "items": sorted(request.items),
                    "pages": one.pages,
                    "copy": copy_no,
                    "copies": copies,
                    "issue_label": one.issue_label,
                },
                place=place.place,
                terminal=place.terminal,
                staff_id=place.staff_id,
            )
        if keep is not None:
            keep(uow, issued[0])
        if channel != "store":
            record_activity(
                uow,
                ActivityKind.CERTIFICATE_ISSUED,
                now,
                ref=f"issue:{first}",
                channel=channel,
                doc_type=request.type.value,
                copies=copies,
                fee_yen=fee_yen * copies,
            )
        uow.commit()
    return issued


def record_refusal(
    uow: CityUnitOfWork, refusal: Refused, at: datetime, *, channel: str = "counter"
) -> None:
    """certificate.refused with its reason code, for the dashboard; the refused work left nothing.

    Its own unit of work, as the store's refusals are kept: the issuance's own
    transaction was rolled back by the refusal.
    """
    with uow:
        kind = ActivityKind.CERTIFICATE_REFUSED
        record_activity(uow, kind, at, channel=channel, cause=refusal.reason[:64])
        uow.commit()


def preview_certificate(
    *, uow: CityUnitOfWork, request: IssueRequest, clock: Clock
) -> IssuedCertificate:
    """印刷プレビュー: the document as it would print, marked 見本; no number, no log, no change.

    Every rule that would refuse the issuance refuses the preview too.
    """
    now = clock.now()
    with uow:
        uow.registers.today = now.date()
        doc = compose(uow.registers, uow.city(), request, now=now, issue_number=0)
    pdf = render(certificate_of(doc, preview=True))
    return IssuedCertificate(
        pdf=pdf,
        issue_number=0,
        certificate=request.type.value,
        resident_code=doc.holder.resident_code,
        holder_name=doc.holder.name,
        subjects=doc.subjects,
        content_digest=content_digest(pdf),
        pages=len(re.findall(rb"/Type\s*/Page(?!s)", pdf)),
        warnings=doc.warnings,
    )


_ONE_LINE = frozenset({"氏名", "住所", "世帯主", "本籍", "筆頭者", "通称"})


def _render(doc: Document, request: IssueRequest, *, check: bool = True) -> IssuedCertificate:
    """The PDF; at the counter, items that overflow their line are added to the warnings."""
    certificate = certificate_of(doc)
    pdf = render(certificate)
    warnings = doc.warnings
    if check:
        mincho, _ = register_fonts()
        warnings += tuple(overflowing(certificate, mincho, _ONE_LINE))
    return IssuedCertificate(
        pdf=pdf,
        issue_number=doc.issuer.issue_number,
        certificate=request.type.value,
        resident_code=doc.holder.resident_code,
        holder_name=doc.holder.name,
        subjects=doc.subjects,
        content_digest=content_digest(pdf),
        pages=len(re.findall(rb"/Type\s*/Page(?!s)", pdf)),
        holder_identity=doc.holder.identity if isinstance(doc.holder, Holder) else "",
        issue_label=doc.issuer.issue_label,
        warnings=warnings,
    )
