"""juki's own tables: each city's newest report of each person, and the batches received."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kofu.core.instant import Instant

__all__ = [
    "code_blocks",
    "code_requests",
    "code_stock",
    "counters",
    "cursors",
    "forward",
    "identities",
    "metadata",
    "node",
    "provisions",
    "received",
    "retired_codes",
    "store",
]

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

# --- Juki-net's hierarchy (migration 0003): the same tables in a prefecture's and the national
# server's own store; each uses those its role needs.

node = Table(  # one row: the role this store was made for (national, pref-11 …)
    "node",
    metadata,
    Column("name", String(8), primary_key=True),
    Column("role", String(16), nullable=False),
)

counters = Table(  # named sequences (the forward outbox's seq, the national code space)
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

cursors = Table(  # the last seq applied of each sender (city-112186, pref-11)
    "cursors",
    metadata,
    Column("sender", String(16), primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
)

received = Table(  # every notice applied, by sender and seq: a resend is recognised by its digest
    "received",
    metadata,
    Column("sender", String(16), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("resident_code", String(11), nullable=False),
    Column("recorded_at", Instant(), nullable=False),  # when the city wrote it
    Column("received_at", Instant(), nullable=False),
)

forward = Table(  # a prefecture's server's outbox towards the national server, in its own seq
    "forward",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("resident_code", String(11), nullable=False),
    Column("notice", Text, nullable=False),
    Column("state", String(8), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", Instant(), nullable=False),
    Column("sent_at", Instant()),
)

retired_codes = Table(  # 住民票コード変更: a code retired, and the one that replaced it
    "retired_codes",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("new_code", String(11), nullable=False),
    Column("city", String(6), nullable=False, index=True),
    Column("retired_on", Date, nullable=False),
)

code_blocks = Table(  # blocks of unused resident codes this server gave out, by request id
    "code_blocks",
    metadata,
    Column("block_id", String(64), primary_key=True),
    Column("holder", String(16), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("first", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("issued_at", Instant(), nullable=False),
    UniqueConstraint("holder", "request_id"),
)

code_stock = Table(  # blocks a prefecture's server received from the national server
    "code_stock",
    metadata,
    Column("block_id", String(64), primary_key=True),
    Column("first", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("received_at", Instant(), nullable=False),
)

code_requests = Table(  # a block asked of the national server under this id, kept before asking
    "code_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("asked_at", Instant(), nullable=False),
    Column("block_id", String(64)),
)

provisions = Table(  # 本人確認情報の提供: every answer to an agency, for 提供状況の開示
    "provisions",
    metadata,
    Column("provision_id", String(64), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("agency", String(48), nullable=False),
    Column("purpose", String(48), nullable=False),
    Column("provided_at", Instant(), nullable=False),
)
