"""What a city keeps of its Juki-net services with other cities (広域交付, 転入転出特例).

The records are plain values: the services read and keep them through the
``Citylink`` book of the unit of work (``kofu.city.domain.ports``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["KeptWideArea"]


@dataclass(frozen=True)
class KeptWideArea:
    """One wide-area certificate as one of the two cities recorded it."""

    request_id: str
    role: str  # issuing or home
    issuing_city: str
    home_city: str
    resident_code: str
    issued_on: date
    state: str
    reason: str | None
    issue_number: int | None
    request_digest: str
    answer: dict[str, Any]
