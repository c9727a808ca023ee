"""The card desk (applications, slots, cards), the outbox, and future-dated resident versions.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("next_change_on", sa.Date()))
    op.create_table(
        "card_applications",
        sa.Column("application_id", sa.String(24), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_card_applications_resident_code", "card_applications", ["resident_code"])
    op.create_table(
        "issuance_slots",
        sa.Column("slot_id", sa.String(24), primary_key=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_issuance_slots_starts_at", "issuance_slots", ["starts_at"])
    op.create_table(
        "cards",
        sa.Column("card_id", sa.String(32), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("auth_serial", sa.String(40), nullable=False, unique=True),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_cards_resident_code", "cards", ["resident_code"])
    op.create_table(
        "outbox",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_outbox_delivered_at", "outbox", ["delivered_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("cards")
    op.drop_table("issuance_slots")
    op.drop_table("card_applications")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("next_change_on")
