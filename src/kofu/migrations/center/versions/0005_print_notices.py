"""Each printed issuance remembers whether its city has counted it (the city's activity log).

A printed issuance not yet told to its city is the outbox entry itself: the
flag is set only once the city answered, so a city down at the moment of the
print hears of it at a later sweep, and the print and its notice are never
apart.  Issuances printed before this revision count as told.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuances") as batch:
        batch.add_column(
            sa.Column("city_told", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_index("ix_issuances_city_told_state", "issuances", ["city_told", "state"])


def downgrade() -> None:
    op.drop_index("ix_issuances_city_told_state", "issuances")
    with op.batch_alter_table("issuances") as batch:
        batch.drop_column("city_told")
