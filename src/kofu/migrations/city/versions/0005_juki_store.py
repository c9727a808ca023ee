"""Which juki store the bookmarks in juki_reported were reported to.

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
    op.create_table("juki_store", sa.Column("store_id", sa.String(36), primary_key=True))


def downgrade() -> None:
    op.drop_table("juki_store")
