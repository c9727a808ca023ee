"""本人確認情報 as the city reports it to juki: the codes, the four basic facts and the state.

The version is the register's version in effect today, so a planned
move-out stored ahead of its date is reported only once it has come due.
"""

from __future__ import annotations

from datetime import date, datetime

from kofu.city.domain.model import Resident
from kofu.contracts.juki import IdentityNotice, IdentityReport

__all__ = ["LINK_MODES", "OUTBOX_STATES", "identity_notice", "identity_report", "touches_identity"]

OUTBOX_STATES = ("pending", "sent", "failed")  # a notice in the city's CS outbox
LINK_MODES = ("auto", "manual")  # the CS link: sent as changes come, or held (手動連携, j1090)


def identity_report(person: Resident, city: str, version: int) -> IdentityReport:
    """One record for juki; a removed record (除票) is reported with the date it was removed."""
    since: date = person.removed_on or person.became_resident_on
    return IdentityReport.model_validate(
        {
            "resident_code": person.resident_code,
            "individual_number": person.individual_number,
            "name": person.name,
            "birth_date": person.birth_date,
            "sex": person.sex.value,
            "address": person.address.text,
            "city": city,
            "state": person.status.value,
            "version": version,
            "since": since,
        }
    )


def touches_identity(before: Resident | None, after: Resident) -> bool:
    """Whether a change alters 本人確認情報: a code, the four basic facts, the state or its date.

    A household or family-register change alone is no business of Juki-net's.
    """
    if before is None:
        return True
    facts = ("resident_code", "individual_number", "name", "birth_date", "sex", "status")
    if any(getattr(before, f) != getattr(after, f) for f in facts):
        return True
    dates = (
        before.removed_on or before.became_resident_on,
        after.removed_on or after.became_resident_on,
    )
    return before.address.text != after.address.text or dates[0] != dates[1]


def identity_notice(
    after: Resident,
    *,
    before: Resident | None,
    city: str,
    version: int,
    seq: int,
    reason: str,
    effective: date,
    at: datetime,
) -> IdentityNotice:
    """The notice of one change (本人確認情報の通知); a changed code names the code it retires."""
    retires = (
        before.resident_code if before and before.resident_code != after.resident_code else None
    )
    return IdentityNotice(
        seq=seq,
        record=identity_report(after, city, version),
        reason=reason,
        effective=effective,
        retires=retires,
        recorded_at=at,
    )
