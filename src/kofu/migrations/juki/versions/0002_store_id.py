"""The identity of juki's store: a new, empty store gets a new one.

A city keeps which store its bookmarks were reported to; finding another
(juki restored empty, or replaced) it reports everything again.

Revision ID: 0002
Revises: 0001
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    store = op.create_table("store", sa.Column("store_id", sa.String(36), primary_key=True))
    op.bulk_insert(store, [{"store_id": str(uuid.uuid4())}])


def downgrade() -> None:
    op.drop_table("store")
