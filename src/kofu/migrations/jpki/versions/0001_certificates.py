"""Issued certificates and the revocation counter.

Revision ID: 0001
Revises:
"""

from alembic import op

from kofu.jpki.adapters.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The first revision creates the tables as kofu.jpki.adapters.tables declared
# them when it was written; later revisions alter them step by step.
_TABLES = ("certificates", "revision")


def upgrade() -> None:
    metadata.create_all(op.get_bind(), tables=[metadata.tables[n] for n in _TABLES])


def downgrade() -> None:
    metadata.drop_all(op.get_bind(), tables=[metadata.tables[n] for n in reversed(_TABLES)])
