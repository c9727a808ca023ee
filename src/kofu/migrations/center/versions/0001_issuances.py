"""The issuance log and alarms.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuances",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("auth_serial", sa.String(40), nullable=False),
        sa.Column("city", sa.String(6), nullable=False),
        sa.Column("certificate", sa.String(16), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(32), nullable=False),
        sa.Column("chain", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder_digest", sa.String(64)),
        sa.Column("content_digest", sa.String(64)),
        sa.Column("reason", sa.Text()),
        sa.Column("print_job", sa.LargeBinary()),
    )
    op.create_index("ix_issuances_created_at", "issuances", ["created_at"])
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("city", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alarms")
    op.drop_table("issuances")
