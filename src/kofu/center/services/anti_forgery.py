"""The center's anti-forgery layer: sign what the city returned, print it as a QR code."""

from __future__ import annotations

import hashlib
from datetime import datetime

from kofu.center.domain.ports import SigningKey
from kofu.documents.payload import Claims, seal_payload
from kofu.documents.stamp import stamp

__all__ = ["protect"]


def protect(
    pdf: bytes,
    *,
    document_id: str,
    city: str,
    type: str,
    issued_at: datetime,
    holder_digest: str,
    holder_name: str,
    issue_number: int,
    signer: SigningKey,
) -> bytes:
    """The city's PDF, unchanged, with the signed QR code and the copy-evident layer appended."""
    claims = Claims(
        document_id=document_id,
        city=city,
        type=type,
        issued_at=issued_at,
        holder_digest=bytes.fromhex(holder_digest)[:16],
        content_digest=hashlib.sha256(pdf).digest(),
        content_length=len(pdf),
        holder_name=holder_name,
        issue_number=issue_number,
    )
    return stamp(pdf, seal_payload(claims, signer.key, signer.kid))
