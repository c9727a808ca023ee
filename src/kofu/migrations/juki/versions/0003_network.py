"""Juki-net's hierarchy: numbered notices received and forwarded, retired codes, code blocks,
provisions to agencies — the same tables in each prefecture's and the national server's store.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "node",
        sa.Column("name", sa.String(8), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "cursors",
        sa.Column("sender", sa.String(16), primary_key=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "received",
        sa.Column("sender", sa.String(16), primary_key=True),
        sa.Column("seq", sa.BigInteger(), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("recorded_at", _AT, nullable=False),
        sa.Column("received_at", _AT, nullable=False),
    )
    op.create_table(
        "forward",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("sent_at", _AT),
    )
    op.create_table(
        "retired_codes",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("new_code", sa.String(11), nullable=False),
        sa.Column("city", sa.String(6), nullable=False, index=True),
        sa.Column("retired_on", sa.Date(), nullable=False),
    )
    op.create_table(
        "code_blocks",
        sa.Column("block_id", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("first", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("issued_at", _AT, nullable=False),
        sa.UniqueConstraint("holder", "request_id"),
    )
    op.create_table(
        "code_stock",
        sa.Column("block_id", sa.String(64), primary_key=True),
        sa.Column("first", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("received_at", _AT, nullable=False),
    )
    op.create_table(
        "code_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("asked_at", _AT, nullable=False),
        sa.Column("block_id", sa.String(64)),
    )
    op.create_table(
        "provisions",
        sa.Column("provision_id", sa.String(64), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False, index=True),
        sa.Column("agency", sa.String(48), nullable=False),
        sa.Column("purpose", sa.String(48), nullable=False),
        sa.Column("provided_at", _AT, nullable=False),
    )
    op.create_index("ix_identities_city", "identities", ["city", "resident_code"])


def downgrade() -> None:
    op.drop_index("ix_identities_city", "identities")
    for table in (
        "provisions",
        "code_requests",
        "code_stock",
        "code_blocks",
        "retired_codes",
        "forward",
        "received",
        "cursors",
        "counters",
        "node",
    ):
        op.drop_table(table)
