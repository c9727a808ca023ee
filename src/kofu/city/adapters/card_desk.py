"""The card desk's records on SQL: applications, issuance slots and issued cards; never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from kofu.city.adapters import tables as t
from kofu.city.domain.card_desk import CardApplication, CardRecord, IssuanceSlot

__all__ = ["SqlCardDesk"]

# every store issuance starts here, so the statement is built once
_BY_AUTH_SERIAL = select(t.cards.c.data).where(t.cards.c.auth_serial == bindparam("b_serial"))


class SqlCardDesk:
    """Applications, slots and cards of one city."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _save(self, table: Any, key: str, value: Any, **columns: Any) -> None:
        row = {key: getattr(value, key), "data": value.model_dump_json(), **columns}
        done = self.conn.execute(update(table).where(table.c[key] == row[key]).values(row))
        if done.rowcount == 0:
            self.conn.execute(insert(table).values(row))

    # --- applications ---------------------------------------------------------------------

    def application(self, application_id: str) -> CardApplication | None:
        data = self.conn.execute(
            select(t.card_applications.c.data).where(
                t.card_applications.c.application_id == application_id
            )
        ).scalar_one_or_none()
        return CardApplication.model_validate_json(data) if data else None

    def applications_of(self, resident_code: str) -> list[CardApplication]:
        rows = self.conn.execute(
            select(t.card_applications.c.data).where(
                t.card_applications.c.resident_code == resident_code
            )
        ).scalars()
        return sorted(
            (CardApplication.model_validate_json(d) for d in rows), key=lambda a: a.application_id
        )

    def open_applications(self) -> list[CardApplication]:
        rows = self.conn.execute(
            select(t.card_applications.c.data).where(
                t.card_applications.c.status.in_(("applied", "notified", "booked"))
            )
        ).scalars()
        return [CardApplication.model_validate_json(d) for d in rows]

    def save_application(self, application: CardApplication) -> None:
        self._save(
            t.card_applications,
            "application_id",
            application,
            resident_code=application.resident_code,
            status=application.status.value,
        )

    # --- slots ----------------------------------------------------------------------------

    def slot(self, slot_id: str) -> IssuanceSlot | None:
        data = self.conn.execute(
            select(t.issuance_slots.c.data).where(t.issuance_slots.c.slot_id == slot_id)
        ).scalar_one_or_none()
        return IssuanceSlot.model_validate_json(data) if data else None

    def slots_from(self, start: datetime, limit: int = 50) -> list[IssuanceSlot]:
        rows = self.conn.execute(
            select(t.issuance_slots.c.data)
            .where(t.issuance_slots.c.starts_at >= start)
            .order_by(t.issuance_slots.c.starts_at)
            .limit(limit)
        ).scalars()
        return [IssuanceSlot.model_validate_json(d) for d in rows]

    def save_slot(self, slot: IssuanceSlot) -> None:
        self._save(t.issuance_slots, "slot_id", slot, starts_at=slot.starts_at)

    # --- cards ----------------------------------------------------------------------------

    def card(self, card_id: str) -> CardRecord | None:
        data = self.conn.execute(
            select(t.cards.c.data).where(t.cards.c.card_id == card_id)
        ).scalar_one_or_none()
        return CardRecord.model_validate_json(data) if data else None

    def cards_of(self, resident_code: str) -> list[CardRecord]:
        rows = self.conn.execute(
            select(t.cards.c.data).where(t.cards.c.resident_code == resident_code)
        ).scalars()
        return [CardRecord.model_validate_json(d) for d in rows]

    def card_by_auth_serial(self, serial: str) -> CardRecord | None:
        data = self.conn.execute(_BY_AUTH_SERIAL, {"b_serial": serial}).scalar_one_or_none()
        return CardRecord.model_validate_json(data) if data else None

    def save_card(self, card: CardRecord) -> None:
        self._save(
            t.cards,
            "card_id",
            card,
            resident_code=card.resident_code,
            state=card.state.value,
            auth_serial=card.auth_serial,
        )
