"""Sending numbered messages in order, exactly once in effect (a transactional outbox).

The sender writes each message with a sequence number (1, 2, 3 …) in the
same transaction as the change it reports; this module drains them to the
receiver in that order.  The receiver applies a seq only after the one
before it: a seq it already has gets the same answer and changes nothing, a
seq past the next one is refused with the seq it expects
(``SequenceGap``).  So a crash anywhere loses nothing (the rows stay
unsent until the receiver's answer is recorded) and doubles nothing (a
resend is recognised), and a receiver restored from an older copy makes the
sender rewind to what it lacks.  Used by a city's CS towards its
prefecture's server and by a prefecture's server towards the national one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kofu.core.errors import KofuError, NotFound, SequenceGap

__all__ = ["Outbox", "Receiver", "Unsent", "drain", "send_one"]


@dataclass(frozen=True)
class Unsent:
    seq: int
    notice: dict[str, Any]  # the message as written, JSON-ready


class Outbox(Protocol):
    """The sender's numbered messages; each call runs in its own committed transaction."""

    def unsent(self, limit: int) -> list[Unsent]: ...
    def one(self, seq: int) -> Unsent | None: ...
    def mark_sent(self, first: int, through: int) -> None: ...
    def rewind(self, to: int) -> None: ...
    def mark_failed(self, seq: int, reason: str) -> None: ...


class Receiver(Protocol):
    """The next hop: applies a batch and answers the last seq it holds (or raises)."""

    def send(self, notices: Sequence[dict[str, Any]]) -> int: ...


def drain(
    outbox: Outbox, receiver: Receiver, *, batch: int = 200, batches: int = 50
) -> dict[str, int]:
    """Send what is unsent, lowest seq first, in up to ``batches`` batches; stop at a failure.

    A failure is written on the first unsent message (state ``failed`` and
    the reason, which a clerk sees) and the rest wait behind it: order is
    never given up to get later messages through.
    """
    sent = rewound = 0
    for _ in range(batches):
        rows = outbox.unsent(batch)
        if not rows:
            break
        try:
            through = receiver.send([r.notice for r in rows])
        except SequenceGap as gap:
            if gap.reason == "sequence_gap" and gap.expected < rows[0].seq and not rewound:
                outbox.rewind(gap.expected)  # the receiver lost what it had: from there again
                rewound += 1
                continue
            outbox.mark_failed(rows[0].seq, gap.message)
            break
        except KofuError as exc:
            outbox.mark_failed(rows[0].seq, exc.message)
            break
        outbox.mark_sent(rows[0].seq, min(through, rows[-1].seq))
        sent += max(0, min(through, rows[-1].seq) - rows[0].seq + 1)
    return {"sent": sent, "rewound": rewound}


def send_one(outbox: Outbox, receiver: Receiver, seq: int) -> dict[str, Any]:
    """Send one message again (a clerk's resend); the receiver's order rules still hold.

    A message already applied gets the same answer and changes nothing; one
    past the receiver's next is refused and stays ``failed`` with the reason.
    """
    row = outbox.one(seq)
    if row is None:
        raise NotFound(f"there is no message with seq {seq}", field="seq")
    try:
        through = receiver.send([row.notice])
    except KofuError as exc:
        outbox.mark_failed(seq, exc.message)
        return {"seq": seq, "state": "failed", "error": exc.message}
    if through >= seq:
        outbox.mark_sent(seq, seq)
        return {"seq": seq, "state": "sent", "applied_through": through}
    outbox.mark_failed(seq, f"the receiver holds only up to seq {through}")
    return {"seq": seq, "state": "failed", "error": f"the receiver holds only up to seq {through}"}
