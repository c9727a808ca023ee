"""交付履歴 as the standard keeps it: place, terminal, staff id, and a disposal.

Revision ID: 0007_register_spec
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_register_spec"
down_revision = "0007_office"
branch_labels = None
depends_on = None

_COLUMNS = ("place", "terminal", "staff_id", "disposed_on", "disposal_reason")


def upgrade() -> None:
    with op.batch_alter_table("issuance_log") as batch:
        batch.add_column(sa.Column("place", sa.String(32)))
        batch.add_column(sa.Column("terminal", sa.String(32)))
        batch.add_column(sa.Column("staff_id", sa.String(32)))
        batch.add_column(sa.Column("disposed_on", sa.Date()))
        batch.add_column(sa.Column("disposal_reason", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("issuance_log") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
