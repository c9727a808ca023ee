"""What the city last reported to juki of each resident (the feed's bookmark).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "juki_reported",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date()),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("juki_reported")
