"""A client of one Juki-net server (a prefecture's or the national one), over mutual TLS.

Shared by a city's CS and a prefecture's server (both send numbered notices
and ask for code blocks) and by the command line; each message is a
contract of ``kofu.contracts.juki``.  A 409 ``sequence_gap`` becomes
``SequenceGap`` naming the seq the receiver expects, which
``kofu.core.sequenced`` rewinds to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kofu.contracts.juki import (
    CodeBlock,
    CodeBlockRequest,
    Disclosure,
    HeldRecords,
    IdentityNotices,
    IdentityReport,
    NoticeReceipt,
    ProvidedIdentity,
    SequenceRefusal,
)
from kofu.core.errors import Refused, SequenceGap
from kofu.core.http import answer_of
from kofu.core.link import Link, LinkError

__all__ = ["JukiLink"]


class JukiLink:
    """One Juki-net server at ``base_url``, reached as the holder of ``context``'s certificate."""

    def __init__(self, base_url: str, link: Link, sender: str = "") -> None:
        self.base = base_url.rstrip("/")
        self.link = link
        self.sender = sender  # city-112186, pref-11: who this link sends notices as
        self.unavailable = Refused(
            "juki_unavailable",
            f"the Juki-net server at {self.base} could not be reached or failed to answer",
            message_ja="住基ネットのサーバに接続できません。しばらくしてから再送してください。",
        )

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            reply = self.link.request(method, f"{self.base}{path}", json=body)
        except LinkError as exc:
            raise self.unavailable from exc
        if reply.status_code == 409:
            try:
                refusal = SequenceRefusal.model_validate(reply.json())
            except ValueError:
                refusal = None
            if refusal is not None:
                raise SequenceGap(
                    refusal.message, expected=refusal.expected_seq, reason=refusal.reason
                )
        return answer_of(reply, self.unavailable)

    def send(self, notices: Sequence[dict[str, Any]]) -> int:
        """Send a batch of consecutive notices; the last seq the receiver now holds."""
        batch = IdentityNotices.checked({"sender": self.sender, "notices": list(notices)})
        answer = self._call("POST", "/notices", batch.model_dump(mode="json"))
        return NoticeReceipt.read(answer, self.unavailable).applied_through

    def block(self, request_id: str, count: int) -> CodeBlock:
        request = CodeBlockRequest(request_id=request_id, holder=self.sender, count=count)
        answer = self._call("POST", "/code-blocks", request.model_dump(mode="json"))
        return CodeBlock.read(answer, self.unavailable)

    def whereabouts(self, resident_code: str) -> dict[str, Any]:
        """Which city holds the person's record now, as this server answers it."""
        answer = self._call("GET", f"/residents/{resident_code}")
        return IdentityReport.read(answer, self.unavailable).model_dump(mode="json")

    def held(self, city: str, after: str = "") -> HeldRecords:
        answer = self._call("GET", f"/cities/{city}/records?after={after}")
        return HeldRecords.read(answer, self.unavailable)

    def provide(self, resident_code: str, purpose: str) -> ProvidedIdentity:
        answer = self._call("GET", f"/identity/{resident_code}?purpose={purpose}")
        return ProvidedIdentity.read(answer, self.unavailable)

    def disclose(self, resident_code: str) -> Disclosure:
        answer = self._call("GET", f"/disclosures/{resident_code}")
        return Disclosure.read(answer, self.unavailable)
