"""Each city's newest report of each person (本人確認情報).

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
        "identities",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("city", sa.String(6), primary_key=True),
        sa.Column("individual_number", sa.String(12), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_identities_individual_number", "identities", ["individual_number"])


def downgrade() -> None:
    op.drop_table("identities")
