"""Two processes append to the office's audit trail at once: the one that lost reads the head again.

The SQL office turns the duplicate seq into the domain's ``AuditSeqTaken``,
so the auditor's retry needs no SQL of its own; the chain stays whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import pytest
from sqlalchemy import Engine

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.domain.ports import AuditSeqTaken
from kofu.city.services.office import Auditor, verify_audit
from kofu.core.clock import JST, FixedClock
from stores import BACKENDS, fresh_store

CODE = "112186"
CLOCK = FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=JST))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_store(request.param, tmp_path, "city") as engine:
        yield engine


class _Overtaken(OfficeUnitOfWork):
    """A unit that, once, lets another process append right after it read the head."""

    def __init__(self, engine: Engine, other: Auditor, pending: list[int]) -> None:
        super().__init__(engine, CODE)
        self.other, self.pending = other, pending

    def __enter__(self) -> Self:
        super().__enter__()
        read = self.office.last_audit

        def last_audit() -> Any:
            head = read()
            if self.pending:
                self.pending.pop()
                self.other.record("other", "clerk", "view_resident", "", "", {})
            return head

        self.office.last_audit = last_audit  # type: ignore[method-assign]
        return self


def test_the_audit_writer_overtaken_appends_after_the_other(engine: Engine, tmp_path: Path) -> None:
    anchor = tmp_path / "head.json"
    other = Auditor(lambda: OfficeUnitOfWork(engine, CODE), CLOCK, anchor)
    pending = [1]
    mine = Auditor(lambda: _Overtaken(engine, other, pending), CLOCK, anchor)

    entry = mine.record("me", "clerk", "issue", "", "", {})

    assert not pending  # the other process did append in between
    assert entry.seq == 2  # after the other's, chained to it
    with OfficeUnitOfWork(engine, CODE) as uow:
        first = uow.office.audit_entries()[0]
        assert (first.staff, entry.prev_hash) == ("other", first.hash)
        with pytest.raises(AuditSeqTaken):  # a seq is appended once, by whoever came first
            uow.office.append_audit(entry)
    assert verify_audit(uow=OfficeUnitOfWork(engine, CODE), anchor=anchor)["ok"]
