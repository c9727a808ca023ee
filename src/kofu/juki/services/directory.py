"""Receiving cities' reports and answering where a person's record is held."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kofu.contracts.juki import MAX_BATCH  # records in one report; a city sends more in several
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, InvalidInput, NotFound
from kofu.core.identifiers import LocalGovernmentCode, ResidentCode
from kofu.juki.domain.identity import IdentityRecord, holding_record
from kofu.juki.domain.ports import JukiUnits

__all__ = ["MAX_BATCH", "JukiDirectory"]


class JukiDirectory:
    """The directory's service layer: stateless over its store, so any worker can answer.

    ``units`` makes a unit of work per step (SQL in service, in memory in fast tests).
    """

    def __init__(self, units: JukiUnits, clock: Clock, reads: JukiUnits | None = None) -> None:
        self.units, self.clock = units, clock
        self.reads = reads or units  # whereabouts: one SELECT, on PostgreSQL without BEGIN/COMMIT

    def receive(self, city: str, records: list[Any]) -> dict[str, int]:
        """Store a city's reports; any invalid one refuses the whole batch and stores nothing.

        Idempotent: a report juki already has (same or older version) changes
        nothing, so a city may resend a batch after a crash or a lost answer.
        """
        sender = str(LocalGovernmentCode(city))
        if not 1 <= len(records) <= MAX_BATCH:
            raise InvalidInput(f"a report carries 1 to {MAX_BATCH} records", field="records")
        parsed = [_parsed(i, raw, sender) for i, raw in enumerate(records, start=1)]
        stored = replaced = unchanged = 0
        with self.units() as uow:  # a new record stored by another worker first: 409
            repo = uow.identities
            known = repo.stored(sender, [r.resident_code for r in parsed])
            for record in parsed:
                previous = known.get(record.resident_code)
                if not record.supersedes(previous):
                    unchanged += 1
                    continue
                if repo.number_in_use(record.individual_number, record.resident_code):
                    raise Conflict(
                        f"record {record.resident_code}: individual number "
                        f"{record.individual_number} belongs to another person; "
                        "nothing was stored",
                        field="individual_number",
                    )
                if repo.put(record, replacing=previous is not None, at=self.clock.now()):
                    replaced += previous is not None
                    stored += previous is None
                    known[record.resident_code] = record
                else:
                    unchanged += 1
            uow.commit()
        return {"stored": stored, "replaced": replaced, "unchanged": unchanged}

    def whereabouts(self, resident_code: str) -> dict[str, Any]:
        """Which city holds the person's record now, and in what state, with the basic facts."""
        code = str(ResidentCode(resident_code))
        with self.reads() as uow:
            held = holding_record(uow.identities.of_person(code))
        if held is None:
            raise NotFound(f"no city has reported resident {code}", field="resident_code")
        return held.model_dump(mode="json")

    def count(self) -> int:
        with self.units() as uow:
            return uow.identities.count()

    def store_id(self) -> str:
        """This store's identity: a city that reported to another store reports everything again."""
        with self.units() as uow:
            return uow.identities.store_id()


def _parsed(number: int, raw: Any, sender: str) -> IdentityRecord:
    """One report, checked; the error names the record by its place in the batch."""
    try:
        record = IdentityRecord.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "record"
        raise InvalidInput(f"record {number}: {where}: {problem['msg']}", field="records") from exc
    except InvalidInput as exc:
        raise InvalidInput(f"record {number}: {exc.message}", field="records") from exc
    if record.city != sender:
        raise InvalidInput(
            f"record {number}: city {record.city} may report only its own residents, "
            f"not through {sender}",
            field="records",
        )
    return record
