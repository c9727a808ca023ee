"""The city's tables.  Each record is stored whole as JSON beside the columns it is found by.

The JSON text is the record's own serialisation (pydantic), so the columns are an
index, never a second truth.  The Alembic revision in migrations/city creates
exactly these.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

from kofu.core.instant import Instant

__all__ = [
    "activity_daily",
    "activity_log",
    "card_applications",
    "cards",
    "citylink_requests",
    "counters",
    "event_log",
    "family_registers",
    "issuance_blocks",
    "issuance_log",
    "issuance_slots",
    "juki_code_blocks",
    "juki_code_requests",
    "juki_link",
    "juki_outbox",
    "metadata",
    "move_ins",
    "move_outs",
    "outbox",
    "profile",
    "provisional_entries",
    "resident_code_changes",
    "resident_versions",
    "residents",
    "seals",
    "store_requests",
    "support_measures",
    "tax_assessments",
    "towns",
]

metadata = MetaData()

profile = Table(
    "city_profile",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("data", Text, nullable=False),
)

towns = Table(
    "towns",
    metadata,
    Column("town", String(64), primary_key=True),
    Column("kana", String(128), nullable=False),
    Column("postal_code", String(7), nullable=False),
)

residents = Table(
    "residents",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("individual_number", String(12), nullable=False, unique=True),
    Column("household_id", String(16), nullable=False, index=True),
    Column("family_register_id", String(16), index=True),
    Column("status", String(16), nullable=False),
    Column("name", String(64), nullable=False),
    Column("kana", String(128), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    # the first date a stored future version (a planned move-out) takes effect
    Column("next_change_on", Date),
)

resident_versions = Table(
    "resident_versions",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("effective", Date, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data", Text, nullable=False),
)

family_registers = Table(
    "family_registers",
    metadata,
    Column("register_id", String(16), primary_key=True),
    Column("domicile", String(128), nullable=False, index=True),
    Column("head_name", String(64), nullable=False),
    Column("closed_on", Date),
    Column("data", Text, nullable=False),
)

domicile_registrations = Table(  # 本籍地利用登録
    "domicile_registrations",
    metadata,
    Column("registration_id", String(16), primary_key=True),
    Column("auth_serial", String(40), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("applied_at", Instant(), nullable=False),
    Column("data", Text, nullable=False),
)

seals = Table(
    "seals",
    metadata,
    Column("registration_number", String(16), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("data", Text, nullable=False),
    Column("image", LargeBinary),
)

tax_assessments = Table(
    "tax_assessments",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("data", Text, nullable=False),
)

support_measures = Table(
    "support_measures",
    metadata,
    Column("measure_id", String(40), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("data", Text, nullable=False),
)

issuance_blocks = Table(
    "issuance_blocks",
    metadata,
    Column("block_id", String(40), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("data", Text, nullable=False),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)

provisional_entries = Table(  # 仮登録 (jyuki-stnd 4.0.8): changes entered, not yet applied
    "provisional_entries",
    metadata,
    Column("entry_id", String(16), primary_key=True),
    Column("state", String(16), nullable=False, index=True),
    Column("resident_code", String(11), index=True),
    Column("kind", String(40), nullable=False),
    Column("entered_at", Instant(), nullable=False),
    Column("data", Text, nullable=False),
)

event_log = Table(
    "event_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch", String(36), nullable=False, index=True),
    Column("applied_at", Instant(), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("event", Text, nullable=False),
    Column("changes", Text, nullable=False),
)

card_applications = Table(
    "card_applications",
    metadata,
    Column("application_id", String(24), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("data", Text, nullable=False),
)

issuance_slots = Table(
    "issuance_slots",
    metadata,
    Column("slot_id", String(24), primary_key=True),
    Column("starts_at", Instant(), nullable=False, index=True),
    Column("data", Text, nullable=False),
)

cards = Table(
    "cards",
    metadata,
    Column("card_id", String(32), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("auth_serial", String(40), nullable=False, unique=True),
    Column("data", Text, nullable=False),
)

# Messages to other parties, written in the same transaction as the change that causes them
# and delivered afterwards, so a crash neither loses nor duplicates one (transactional outbox).
outbox = Table(
    "outbox",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("created_at", Instant(), nullable=False),
    Column("target", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),
    Column("delivered_at", Instant(), index=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
)

issuance_log = Table(
    "issuance_log",
    metadata,
    Column("issue_number", Integer, primary_key=True, autoincrement=False),
    Column("issued_at", Instant(), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("certificate", String(32), nullable=False),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("content_digest", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    # 交付履歴 (jyuki-stnd 1.3.8): where, on which terminal, by whom; and a disposal
    Column("place", String(32)),
    Column("terminal", String(32)),
    Column("staff_id", String(32)),
    Column("disposed_on", Date),
    Column("disposal_reason", Text),
)

juki_store = Table(  # the juki store juki_reported was reported to (one row, once known)
    "juki_store",
    metadata,
    Column("store_id", String(36), primary_key=True),
)

juki_reported = Table(  # what juki last heard of each resident from this city
    "juki_reported",
    metadata,
    Column("resident_code", String(11), primary_key=True),
    Column("row_version", Integer, nullable=False),
    Column("due_on", Date),  # a stored future version comes due then: report again
    Column("reported_at", Instant(), nullable=False),
)

# What the certificate server answered under each of the center's request ids, kept in the
# same transaction as the issuance, so the same id asked again gets the same answer.
store_requests = Table(
    "store_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("request_digest", String(64), nullable=False),  # "" for an abandoned id
    Column("state", String(16), nullable=False),  # issued, refused, abandoned
    Column("answered_at", Instant(), nullable=False),
    Column("issue_number", Integer),
    Column("answer", Text, nullable=False),  # the JSON answer without the PDF, or the refusal
    Column("pdf", LargeBinary),  # the document as answered, byte for byte
)

# --- Juki-net, the city's communication server (CS) side (migration juki_net_cs) ---------------

juki_outbox = Table(  # every change of 本人確認情報, numbered, written with the change itself
    "juki_outbox",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("reason", String(40), nullable=False),  # 異動事由
    Column("notice", Text, nullable=False),  # the IdentityNotice as sent, JSON
    Column("state", String(8), nullable=False, index=True),  # pending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text),  # why the last send failed, for the clerk
    Column("created_at", Instant(), nullable=False),
    Column("sent_at", Instant()),
)

juki_link = Table(  # one row: automatic or manual linkage (自動/手動連携), and the initial load
    "juki_link",
    metadata,
    Column("name", String(8), primary_key=True),
    Column("mode", String(8), nullable=False),  # auto, manual
    Column("changed_at", Instant(), nullable=False),
    Column("note", Text),
    Column("loaded_at", Instant()),  # when every record was queued once (初期移行)
)

juki_code_blocks = (
    Table(  # blocks of unused resident codes (未使用住民票コード) from the prefecture
        "juki_code_blocks",
        metadata,
        Column("block_id", String(64), primary_key=True),
        Column("first", BigInteger, nullable=False),  # the 10-digit base of the first code
        Column("count", Integer, nullable=False),
        Column("used", Integer, nullable=False),
        Column("received_at", Instant(), nullable=False),
    )
)

juki_code_requests = Table(  # a block asked for under this id (kept before asking: a retry
    "juki_code_requests",  # after a crash asks with the same id and gets the same block)
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("asked_at", Instant(), nullable=False),
    Column("block_id", String(64)),  # once received
)

resident_code_changes = Table(  # 住民票コード変更: the retired code and the one that replaced it
    "resident_code_changes",
    metadata,
    Column("old_code", String(11), primary_key=True),
    Column("new_code", String(11), nullable=False, index=True),
    Column("changed_on", Date, nullable=False),
    Column("channel", String(8), nullable=False),  # counter, post
)

# Juki-net services between cities (migration 0007_juki_services).
citylink_requests = Table(  # each wide-area certificate, at the issuing and at the home city
    "citylink_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("role", String(8), primary_key=True),  # issuing (交付地) or home (住所地)
    Column("issuing_city", String(6), nullable=False),
    Column("home_city", String(6), nullable=False),
    Column("resident_code", String(11), nullable=False),
    Column("issued_on", Date, nullable=False, index=True),
    Column("state", String(16), nullable=False),  # issued, refused
    Column("reason", String(64)),
    Column("issue_number", Integer),  # the issuing city's number for its certificate
    Column("request_digest", String(64), nullable=False),
    Column("answer", Text, nullable=False),  # the home city's answer, as sent
    Column("at", Instant(), nullable=False),
)

move_outs = Table(  # 転出証明書情報 of special move-outs, kept for the destination city
    "move_outs",
    metadata,
    Column("move_out_id", String(64), primary_key=True),
    Column("resident_code", String(11), nullable=False, index=True),
    Column("to_city", String(6), nullable=False),
    Column("state", String(16), nullable=False),  # planned, moved_in
    Column("data", Text, nullable=False),
    Column("created_at", Instant(), nullable=False),
    Column("closed_at", Instant()),
)

move_ins = Table(  # the move-out data each special move-in used: never twice
    "move_ins",
    metadata,
    Column("move_out_id", String(64), primary_key=True),
    Column("from_city", String(6), nullable=False),
    Column("moved_on", Date, nullable=False),
    Column("residents", Text, nullable=False),
    Column("at", Instant(), nullable=False),
)

# The activity log (業務実績, kofu.city.domain.activity): append-only, one row per event or per
# imported (day, kind) count; a correction is a reversal row pointing at the original (voids).
_ActivityId = BigInteger().with_variant(Integer, "sqlite")
activity_log = Table(
    "activity_log",
    metadata,
    Column("id", _ActivityId, primary_key=True, autoincrement=True),
    Column("kind", String(48), nullable=False),
    Column("occurred_at", Instant(), nullable=False),
    Column("day", Date, nullable=False),  # the day in Japan time, which decides the fiscal year
    Column("count", BigInteger, nullable=False),
    Column("channel", String(64), nullable=False, server_default=""),
    Column("doc_type", String(64), nullable=False, server_default=""),
    Column("role", String(64), nullable=False, server_default=""),
    Column("cause", String(64), nullable=False, server_default=""),
    Column("copies", BigInteger, nullable=False, server_default="0"),
    Column("fee_yen", BigInteger, nullable=False, server_default="0"),
    Column("programme", String(16), nullable=False, server_default=""),
    Column("origin", String(12), nullable=False),  # operation / import / staff
    Column("ref", String(96)),  # the work's own key: logged once (unique where set)
    Column("voids", _ActivityId),  # a reversal names the one row it cancels (unique where set)
    Column("recorded_at", Instant(), nullable=False),
    Column("detail", Text),
    Index("ix_activity_log_kind_day", "kind", "day"),
    Index(
        "ix_activity_log_ref",
        "ref",
        unique=True,
        sqlite_where=text("ref IS NOT NULL"),
        postgresql_where=text("ref IS NOT NULL"),
    ),
    Index(
        "ix_activity_log_voids",
        "voids",
        unique=True,
        sqlite_where=text("voids IS NOT NULL"),
        postgresql_where=text("voids IS NOT NULL"),
    ),
)

# Daily sums of the log by kind and qualifiers, kept in the same transaction as each append,
# so a sheet reads a few thousand rows however long the log grows.
activity_daily = Table(
    "activity_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", String(48), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("doc_type", String(64), primary_key=True),
    Column("role", String(64), primary_key=True),
    Column("cause", String(64), primary_key=True),
    Column("programme", String(16), primary_key=True),
    Column("n", BigInteger, nullable=False),
    Column("copies", BigInteger, nullable=False),
    Column("fee_yen", BigInteger, nullable=False),
    Column("records", BigInteger, nullable=False),
)
