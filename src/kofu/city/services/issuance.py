"""Issuing a certificate at the counter (窓口交付): compose, render, number and log it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kofu.city.domain.certificates import Document, Holder, IssueRequest
from kofu.city.domain.issuance import compose
from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.services.layout import certificate_of
from kofu.core.clock import Clock
from kofu.documents.render import content_digest, render

__all__ = ["IssuedCertificate", "issue_certificate"]


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
) -> IssuedCertificate:
    """Compose and render the certificate; a refusal raises and leaves nothing behind.

    ``precheck`` runs the channel's own rules (the store's) inside the same
    transaction as the composition, before anything is numbered; ``composer``
    replaces the usual composition (the domicile city's documents).  The number
    is reserved only once the document is sure to be issued, and the PDF is
    drawn outside any transaction, so concurrent issuances wait for each
    other only for the two short writes, never for a render.  ``keep`` writes
    what the channel keeps of the issuance (the store's answer under its
    request id) in the same transaction as the log: both or neither.
    """
    now = clock.now()
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
        uow.commit()  # a record whose planned change came due is brought up to date
    with uow:
        number = uow.registers.next_number("issue")
        uow.commit()
    doc = replace(doc, issuer=replace(doc.issuer, issue_number=number))
    pdf = render(certificate_of(doc))
    digest = content_digest(pdf)
    issued = IssuedCertificate(
        pdf=pdf,
        issue_number=number,
        certificate=request.type.value,
        resident_code=doc.holder.resident_code,
        holder_name=doc.holder.name,
        subjects=doc.subjects,
        content_digest=digest,
        pages=len(re.findall(rb"/Type\s*/Page(?!s)", pdf)),
        holder_identity=doc.holder.identity if isinstance(doc.holder, Holder) else "",
    )
    with uow:
        uow.registers.log_issuance(
            issue_number=number,
            at=now,
            channel=channel,
            certificate=request.type.value,
            resident_code=doc.holder.resident_code,
            digest=digest,
            detail={"subjects": list(doc.subjects), "items": sorted(request.items)},
        )
        if keep is not None:
            keep(uow, issued)
        uow.commit()
    return issued
