"""本人確認情報: what juki knows of a person, as each city last reported it.

A city reports its own version of a record (its register's version number),
so versions are compared only within one city.  A person who moved has a
removed record (除票) at the old city and a live one at the new; the city
that holds the record *now* is the one whose record is live.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kofu.core.identifiers import IndividualNumber, LocalGovernmentCode, ResidentCode

__all__ = ["IdentityRecord", "RecordState", "holding_record"]


class RecordState(StrEnum):
    """Whether the reporting city's record is live or a removed record (除票)."""

    RESIDENT = "resident"
    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


class IdentityRecord(BaseModel):
    """One city's report of one person: codes, the four basic facts (基本4情報), the state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    resident_code: str = Field(description="住民票コード")
    individual_number: str = Field(description="個人番号")
    name: str = Field(min_length=1, max_length=64)
    birth_date: date
    sex: str = Field(pattern="^(male|female)$")
    address: str = Field(min_length=1, max_length=200)
    city: str = Field(description="the reporting municipality's local government code")
    state: RecordState
    version: int = Field(ge=1, le=2**31 - 1, description="the city's version of this record")
    since: date = Field(description="the date the record took this state (転入日, 消除日 …)")

    @field_validator("resident_code")
    @classmethod
    def _resident_code(cls, value: str) -> str:
        return str(ResidentCode(value))

    @field_validator("individual_number")
    @classmethod
    def _individual_number(cls, value: str) -> str:
        return str(IndividualNumber(value))

    @field_validator("city")
    @classmethod
    def _city(cls, value: str) -> str:
        return str(LocalGovernmentCode(value))

    def supersedes(self, stored: IdentityRecord | None) -> bool:
        """Whether this report replaces what juki keeps from the same city (a newer version)."""
        return stored is None or self.version > stored.version


def holding_record(records: Sequence[IdentityRecord]) -> IdentityRecord | None:
    """The record of the city that holds the person now: the live one, else the latest removed.

    During a move both may be live for a day (転入 reported before 転出 is
    final); the later move-in wins.
    """
    if not records:
        return None
    live = [r for r in records if r.state is RecordState.RESIDENT]
    pool = live or list(records)
    return max(pool, key=lambda r: (r.since, r.version, r.city))
