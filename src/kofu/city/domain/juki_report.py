"""本人確認情報 as the city reports it to juki: the codes, the four basic facts and the state.

The version is the register's version in effect today, so a planned
move-out stored ahead of its date is reported only once it has come due.
"""

from __future__ import annotations

from datetime import date

from kofu.city.domain.model import Resident
from kofu.contracts.juki import IdentityReport

__all__ = ["identity_report"]


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
