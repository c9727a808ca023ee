"""A household the register-spec tests build themselves, in the seeded city, by events.

The seeded city is random; these tests need a household whose every relation
is known, so they bring one in with ``move_in`` events and act on it.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.events import Change
from kofu.city.domain.model import Resident
from kofu.city.services.events import apply_events
from kofu.city.services.issuance import IssuedCertificate, issue_certificate
from kofu.core.clock import JST, FixedClock
from kofu.core.identifiers import resident_code_check_digit

MOVED_IN = date(2026, 11, 1)
DAY = date(2026, 12, 1)
ELSEWHERE = {"prefecture": "東京都", "city": "千代田区", "town": "千代田", "block": "1番1号"}


def code(base: str) -> str:
    """A valid 住民票コード from ten digits."""
    return f"{base}{resident_code_check_digit(base)}"


class World:
    """Apply events on a day; read people and households back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.today = DAY
        with self.uow() as uow:
            self.town = uow.registers.residents(limit=1)[0].address.town

    def uow(self, on: date | None = None) -> CityUnitOfWork:
        return CityUnitOfWork(self.engine, today=on or self.today)

    def apply(self, *events: dict[str, Any], on: date | None = None) -> list[Change]:
        day = on or self.today
        clock = FixedClock(datetime.combine(day, time(10), JST))
        return apply_events(uow=self.uow(day), events=list(events), clock=clock)

    def person(self, code: str) -> Resident:
        with self.uow() as uow:
            found = uow.registers.resident(code)
        assert found is not None
        return found

    def household(self, household_id: str) -> list[Resident]:
        with self.uow() as uow:
            return list(uow.registers.household(household_id))

    def move_in(
        self,
        code: str,
        name: str,
        birth: str,
        sex: str,
        relationship: str = "世帯主",
        household: str = "new",
        **extra: Any,
    ) -> Resident:
        event: dict[str, Any] = {
            "kind": "move_in",
            "resident": code,
            "effective": MOVED_IN.isoformat(),
            "name": name,
            "kana": "テスト　タロウ",
            "birth_date": birth,
            "sex": sex,
            "address": {"town": self.town, "block": "1番地"},
            "previous_address": ELSEWHERE,
            "household": household,
            "relationship": relationship,
            "domicile": "東京都千代田区千代田1番",
            "domicile_head": name,
        }
        event.update(extra)
        self.apply(event, on=MOVED_IN)
        return self.person(code)


def family(world: World, *members: tuple[str, str, str, str, str]) -> str:
    """Bring in a household: (code, name, birth, sex, 続柄), the head first; its id."""
    head = world.move_in(*members[0][:4])
    for code, name, birth, sex, relationship in members[1:]:
        world.move_in(code, name, birth, sex, relationship, head.household_id)
    return head.household_id


def issue(
    world: World, resident: str, type: str = "juminhyo", channel: str = "counter", **options: Any
) -> IssuedCertificate:
    """Issue at the counter (or as the store path would) on the world's day."""
    request = IssueRequest.parse(type=type, resident_code=resident, **options)
    clock = FixedClock(datetime.combine(world.today, time(10), JST))
    return issue_certificate(uow=world.uow(), request=request, clock=clock, channel=channel)


def pdf_text(pdf: bytes, page: int | None = None) -> str:
    """The PDF's text read back with poppler, all whitespace removed."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        pages = ["-f", str(page), "-l", str(page)] if page else []
        out = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", *pages, f.name, "-"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    return re.sub(r"\s+", "", out)
