"""Receiving cities' reports and answering where a person's record is held."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from kofu.contracts.juki import MAX_BATCH  # records in one report; a city sends more in several
from kofu.core.clock import Clock
from kofu.core.db import single_statements
from kofu.core.errors import Conflict, InvalidInput, NotFound
from kofu.core.identifiers import LocalGovernmentCode, ResidentCode
from kofu.juki.adapters.repository import SqlIdentities
from kofu.juki.domain.identity import IdentityRecord, holding_record

__all__ = ["MAX_BATCH", "JukiDirectory"]


class JukiDirectory:
    """The directory's service layer: stateless over its engine, so any worker can answer."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

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
        try:
            with self.engine.begin() as conn:
                repo = SqlIdentities(conn)
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
        except IntegrityError as exc:  # the same new record from two workers at once
            raise Conflict(
                "another report of the same records is being stored; send again",
                field="records",
            ) from exc
        return {"stored": stored, "replaced": replaced, "unchanged": unchanged}

    def whereabouts(self, resident_code: str) -> dict[str, Any]:
        """Which city holds the person's record now, and in what state, with the basic facts."""
        code = str(ResidentCode(resident_code))
        with single_statements(self.engine).connect() as conn:  # one SELECT, no transaction
            held = holding_record(SqlIdentities(conn).of_person(code))
        if held is None:
            raise NotFound(f"no city has reported resident {code}", field="resident_code")
        return held.model_dump(mode="json")

    def count(self) -> int:
        with self.engine.connect() as conn:
            return SqlIdentities(conn).count()

    def store_id(self) -> str:
        """This store's identity: a city that reported to another store reports everything again."""
        with self.engine.connect() as conn:
            return SqlIdentities(conn).store_id()


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
