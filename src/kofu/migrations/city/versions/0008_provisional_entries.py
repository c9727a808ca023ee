"""仮登録: changes entered and kept until approved (jyuki-stnd 4.0.8).

Revision ID: 0008_provisional
Revises: 0007_evaluation
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_provisional"
down_revision = "0007_evaluation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provisional_entries",
        sa.Column("entry_id", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resident_code", sa.String(11)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_provisional_entries_state", "provisional_entries", ["state"])
    op.create_index(
        "ix_provisional_entries_resident_code", "provisional_entries", ["resident_code"]
    )


def downgrade() -> None:
    op.drop_index("ix_provisional_entries_resident_code", "provisional_entries")
    op.drop_index("ix_provisional_entries_state", "provisional_entries")
    op.drop_table("provisional_entries")
