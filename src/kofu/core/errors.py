"""The error tree every party shares.

    KofuError
    ├── InvalidInput        the caller sent something malformed (HTTP 422)
    ├── NotFound            the thing named does not exist (HTTP 404)
    ├── Conflict            the request contradicts the current state (HTTP 409)
    └── Refused             a rule forbids it; carries a reason code a kiosk can show (HTTP 403)

Every error names the problem in words; a refusal also carries a stable
``reason`` code so that screens and logs can translate and count it.
"""

from __future__ import annotations

__all__ = ["Conflict", "InvalidInput", "KofuError", "NotFound", "Refused", "SequenceGap"]


class KofuError(Exception):
    """Base of every error kofu raises on purpose."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str]:
        """A JSON-friendly description for CLI and HTTP answers."""
        out = {"error": type(self).__name__, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class InvalidInput(KofuError):
    """Malformed input: a bad identifier, date, option or event."""

    status = 422


class NotFound(KofuError):
    """The resident, register or document asked for does not exist."""

    status = 404


class Conflict(KofuError):
    """The request contradicts the current state (e.g. a seal is already registered)."""

    status = 409


class Refused(KofuError):
    """A rule forbids issuing; ``reason`` is a stable code, ``message`` says why in words."""

    status = 403

    def __init__(self, reason: str, message: str, *, message_ja: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message_ja = message_ja or message

    def to_dict(self) -> dict[str, str]:
        out = super().to_dict()
        out["reason"] = self.reason
        out["message_ja"] = self.message_ja
        return out


class SequenceGap(Conflict):
    """A numbered message past the next one the receiver expects (or contradicting one it has).

    Juki-net applies a sender's notices strictly in order: the answer names
    ``expected``, the seq the sender must send next, so it can rewind.
    """

    def __init__(self, message: str, *, expected: int, reason: str = "sequence_gap") -> None:
        super().__init__(message, field="seq")
        self.expected = expected
        self.reason = reason

    def to_dict(self) -> dict[str, str]:
        out = super().to_dict()
        out["reason"] = self.reason
        out["expected_seq"] = self.expected  # type: ignore[assignment]  # a number on the wire
        return out
