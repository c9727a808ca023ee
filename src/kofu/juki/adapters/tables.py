"""juki's own tables: each city's newest report of each person, and the batches received."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text

from kofu.core.instant import Instant

__all__ = ["identities", "metadata", "store"]

metadata = MetaData()

identities = Table(
    "identities",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("city", String(6), primary_key=True),
    Column("individual_number", String(12), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("since", Date, nullable=False),
    Column("data", Text, nullable=False),  # the whole report as JSON
    Column("received_at", Instant(), nullable=False),
)

store = Table(  # one row: this store's identity, made with it (migration 0002)
    "store",
    metadata,
    Column("store_id", String(36), primary_key=True),
)
