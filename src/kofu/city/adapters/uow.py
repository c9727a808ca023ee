"""The unit of work: one transaction over the city's registers, committed only on request."""

from __future__ import annotations

import random
from datetime import date
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from kofu.city.adapters.activity import SqlActivityLog
from kofu.city.adapters.card_desk import SqlCardDesk
from kofu.city.adapters.citylink_store import SqlCitylink
from kofu.city.adapters.juki_cs import SqlJukiCs
from kofu.city.adapters.juki_feed import SqlJukiFeed
from kofu.city.adapters.outbox import SqlOutbox
from kofu.city.adapters.provisional import SqlProvisionalEntries
from kofu.city.adapters.repository import SqlRegisters
from kofu.city.adapters.store_requests import SqlStoreRequests
from kofu.city.domain.city import CityProfile
from kofu.city.domain.ports import CityUnits
from kofu.core.db import single_statements
from kofu.core.errors import NotFound

__all__ = ["CityUnitOfWork", "city_units"]


class CityUnitOfWork:
    """``with CityUnitOfWork(engine) as uow: ...; uow.commit()`` — anything else rolls back."""

    registers: SqlRegisters
    cards: SqlCardDesk
    outbox: SqlOutbox
    juki: SqlJukiFeed
    cs: SqlJukiCs  # Juki-net's communication server side: outbox, link, code blocks
    store_requests: SqlStoreRequests
    citylink: SqlCitylink  # wide-area certificates, move-out data, move-ins
    activity: SqlActivityLog
    provisional: SqlProvisionalEntries  # 仮登録: changes entered, not yet on the register

    def __init__(
        self, engine: Engine, rng: random.Random | None = None, today: date | None = None
    ) -> None:
        self._engine = engine
        self._rng = rng
        self._today = today
        self._conn: Connection | None = None
        self._read_only = False

    def reading(self) -> Self:
        """For the next ``with`` only: reads, each statement on its own, no transaction.

        A lookup of one row needs no transaction; on PostgreSQL its BEGIN
        and ROLLBACK were two round trips more than the read itself
        (kofu.core.db.single_statements).  Nothing may be committed.
        """
        self._read_only = True
        return self

    def __enter__(self) -> Self:
        if self._read_only:
            self._conn = single_statements(self._engine).connect()
        else:
            self._conn = self._engine.connect()
            self._conn.begin()
        self.registers = SqlRegisters(self._conn, self._rng, self._today)
        self.cards = SqlCardDesk(self._conn)
        self.outbox = SqlOutbox(self._conn)
        self.juki = SqlJukiFeed(self._conn, self.registers)
        self.cs = SqlJukiCs(self._conn, self.registers)
        self.registers.on_change = self.cs.record  # the notice in the change's transaction
        self.registers.take_code = self.cs.take_code
        self.store_requests = SqlStoreRequests(self._conn)
        self.citylink = SqlCitylink(self._conn)
        self.activity = SqlActivityLog(self._conn)
        self.provisional = SqlProvisionalEntries(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None
            self._read_only = False

    def commit(self) -> None:
        assert self._conn is not None
        assert not self._read_only, "a unit of work opened for reading commits nothing"
        self._conn.commit()

    def city(self) -> CityProfile:
        """The city this store belongs to; a store never seeded has none."""
        profile = self.registers.profile()
        if profile is None:
            raise NotFound("this city has not been seeded yet (run kofu seed)", field="city")
        return profile


def city_units(engine: Engine) -> CityUnits:
    """The factory the services that run many units take (the CS, a resident code change)."""

    def unit(*, today: date | None = None) -> CityUnitOfWork:
        return CityUnitOfWork(engine, today=today)

    return unit
