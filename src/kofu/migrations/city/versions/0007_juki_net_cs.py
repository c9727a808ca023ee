"""The city's communication server (CS) side of Juki-net: the outbox of 本人確認情報 notices,
the link's mode (自動/手動連携), the blocks of unused resident codes (未使用住民票コード) and
the resident code changes (住民票コード変更).

Revision ID: juki_net_cs
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "juki_net_cs"
down_revision = "0007_register_spec"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "juki_outbox",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("resident_code", sa.String(11), nullable=False, index=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "juki_link",
        sa.Column("name", sa.String(8), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("loaded_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "juki_code_blocks",
        sa.Column("block_id", sa.String(64), primary_key=True),
        sa.Column("first", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "juki_code_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("block_id", sa.String(64)),
    )
    op.create_table(
        "resident_code_changes",
        sa.Column("old_code", sa.String(11), primary_key=True),
        sa.Column("new_code", sa.String(11), nullable=False, index=True),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "resident_code_changes",
        "juki_code_requests",
        "juki_code_blocks",
        "juki_link",
        "juki_outbox",
    ):
        op.drop_table(table)
