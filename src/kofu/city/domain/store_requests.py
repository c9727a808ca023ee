"""What the certificate server answered under each of the center's request ids (受信側の冪等性).

The center sends every store request under the kiosk's request id.  The
city keeps, in the same transaction as the issuance, what it answered:
the document with its issue number, or its refusal.  The same id asked
again gets the same answer, never a second issue number; the same id with
another request is refused.  When the center gives up a request id the
city has no answer for, the id is closed (``abandoned``), so an issuance
still under way under it can no longer be kept or answered.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kofu.core.errors import Conflict, Refused

__all__ = [
    "KeptAnswer",
    "RequestIdReused",
    "RequestIdTaken",
    "outcome",
    "replay",
    "request_digest",
]

State = Literal["issued", "refused", "abandoned"]


@dataclass(frozen=True)
class KeptAnswer:
    """One request id's answer: the JSON answer without the PDF, and the PDF itself."""

    request_id: str
    request_digest: str  # "" for an abandoned id: no request came with it
    state: State
    answer: dict[str, Any]  # the issued answer without pdf_base64, or the refusal
    pdf: bytes | None = None
    issue_number: int | None = None


class RequestIdReused(Conflict):
    """The request id was already used for another request (409 ``request_id_reused``)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(
            f"request id {request_id} was already used for a different request; "
            "a new request needs a new request id",
            field="request_id",
        )

    def to_dict(self) -> dict[str, str]:
        return super().to_dict() | {"reason": "request_id_reused"}


class RequestIdTaken(Exception):
    """Another answer was kept under this request id first (a concurrent duplicate)."""


def request_digest(request: Mapping[str, Any]) -> str:
    """SHA-256 of the request as canonical JSON: the same request always gives the same digest."""
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(kept: KeptAnswer, digest: str) -> dict[str, Any]:
    """The answer kept under a request id, given again; another request under it is refused."""
    if kept.state == "abandoned":
        raise Refused(
            "request_abandoned",
            f"the center gave up request {kept.request_id}; nothing was issued under it",
            message_ja="処理を中断しました。もう一度最初からやり直してください。",
        )
    if kept.request_digest != digest:
        raise RequestIdReused(kept.request_id)
    if kept.state == "refused":
        raise Refused(
            str(kept.answer["reason"]),
            str(kept.answer["message"]),
            message_ja=str(kept.answer.get("message_ja") or kept.answer["message"]),
        )
    assert kept.pdf is not None
    return kept.answer | {"pdf_base64": base64.b64encode(kept.pdf).decode()}


def outcome(request_id: str, kept: KeptAnswer | None) -> dict[str, Any]:
    """What the city did under a request id, for the center's recovery: issued, refused, ..."""
    if kept is None:
        return {"request_id": request_id, "state": "unknown"}
    out: dict[str, Any] = {"request_id": request_id, "state": kept.state}
    if kept.state == "issued":
        assert kept.pdf is not None
        out["answer"] = kept.answer | {"pdf_base64": base64.b64encode(kept.pdf).decode()}
    elif kept.state == "refused":
        out |= {k: kept.answer.get(k) for k in ("reason", "message", "message_ja")}
    return out
