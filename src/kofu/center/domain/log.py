"""Searching the issuance log (交付記録) as the operator does: by time, city, store chain, state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kofu.center.domain.issuance import PRINTED, RENDERED, REQUESTED, VOIDED
from kofu.core.errors import InvalidInput

__all__ = ["STATES", "LogQuery"]

STATES = (REQUESTED, RENDERED, PRINTED, VOIDED)
MAX_ENTRIES = 500


@dataclass(frozen=True)
class LogQuery:
    """Entries created in [since, until) of a city, chain and state; newest first."""

    since: datetime | None = None
    until: datetime | None = None
    city: str | None = None
    chain: str | None = None
    state: str | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in STATES:
            raise InvalidInput(f"state is one of {', '.join(STATES)}", field="state")
        if not 1 <= self.limit <= MAX_ENTRIES:
            raise InvalidInput(f"limit is 1 to {MAX_ENTRIES}", field="limit")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("since comes before until", field="since")
        for name in ("since", "until"):
            at = getattr(self, name)
            if at is not None and at.tzinfo is None:
                raise InvalidInput(f"{name} needs its UTC offset (+09:00)", field=name)
            if at is not None and not 1990 <= at.year <= 2200:  # and no overflow converting it
                raise InvalidInput(f"{name} is between 1990 and 2200", field=name)
