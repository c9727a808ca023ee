"""The injected clock.

``KOFU_NOW`` fixes "now" so that store hours, expiry and era dates are testable:
a command reads it as a fixed instant; a long-running service starts its clock
there and lets it run on.  Every time is timezone-aware, in Japan time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Protocol

from kofu.core.errors import InvalidInput

__all__ = ["JST", "Clock", "FixedClock", "RunningClock", "SystemClock", "clock_from_env"]

JST = timezone(timedelta(hours=9), "JST")


class Clock(Protocol):
    """Anything that tells the current time."""

    def now(self) -> datetime: ...

    def today(self) -> date: ...


@dataclass(frozen=True)
class SystemClock:
    """The real time, in JST."""

    def now(self) -> datetime:
        return datetime.now(JST)

    def today(self) -> date:
        return self.now().date()


@dataclass(frozen=True)
class FixedClock:
    """A frozen instant: commands run with KOFU_NOW, and tests."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.instant.date()


@dataclass
class RunningClock:
    """Starts at a given instant and runs on with real time (services started with KOFU_NOW)."""

    start: datetime
    _origin: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._origin)

    def today(self) -> date:
        return self.now().date()


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant; a value without a zone is taken as Japan time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"KOFU_NOW is not an ISO-8601 time: {text!r}", field="KOFU_NOW") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=JST)
    return value.astimezone(JST)


def clock_from_env(*, running: bool = False) -> Clock:
    """The clock KOFU_NOW asks for, or the system clock."""
    text = os.environ.get("KOFU_NOW")
    if not text:
        return SystemClock()
    instant = parse_instant(text)
    return RunningClock(instant) if running else FixedClock(instant)
