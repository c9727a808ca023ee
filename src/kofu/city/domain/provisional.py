"""仮登録 and 本登録 (jyuki-stnd 4.0.8): a change entered, checked, then put on the register.

A change entered provisionally is kept as entered and nothing else: it is
not on the register, not in any history, not on a certificate, and no other
system hears of it.  On approval (本登録, 決裁) it is applied as any event,
checked again against the register as it stands then; until then it may be
withdrawn (取消) and entered anew (修正).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from kofu.city.domain.model import Record
from kofu.core.errors import Conflict

__all__ = ["EntryState", "ProvisionalEntry"]


class EntryState(StrEnum):
    """Where a provisional entry stands."""

    PENDING = "pending"  # 仮登録: entered, not yet approved
    REGISTERED = "registered"  # 本登録: approved and applied
    WITHDRAWN = "withdrawn"  # 取消: withdrawn before approval


class ProvisionalEntry(Record):
    """One change entered provisionally: the event as validated, who entered it and when."""

    entry_id: str
    kind: str
    resident_code: str | None  # whom it concerns, when the event names a person
    event: dict[str, Any]
    entered_at: datetime
    entered_by: str | None = None
    state: EntryState = EntryState.PENDING
    decided_at: datetime | None = None  # 本登録 or 取消
    decided_by: str | None = None

    def decided(self, state: EntryState, at: datetime, by: str | None) -> ProvisionalEntry:
        """The entry approved or withdrawn; only a pending one is decided, and once."""
        if self.state is not EntryState.PENDING:
            raise Conflict(
                f"entry {self.entry_id} is already {self.state.value} "
                f"({self.decided_at.isoformat() if self.decided_at else ''})",
                field="entry",
            )
        return self.model_copy(update={"state": state, "decided_at": at, "decided_by": by})
