"""Sessions in the store, so that several workers share them.

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
    op.create_table(
        "sessions",
        sa.Column("session", sa.String(32), primary_key=True),
        sa.Column("challenge", sa.LargeBinary()),
        sa.Column("challenge_expires", sa.DateTime(timezone=True), nullable=False),
        sa.Column("auth_serial", sa.String(40)),
        sa.Column("not_after", sa.DateTime(timezone=True)),
        sa.Column("expires", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("sessions")
