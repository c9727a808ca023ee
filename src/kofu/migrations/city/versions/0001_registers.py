"""The city's registers, history, counters and logs.

Revision ID: 0001
Revises:
"""

from alembic import op

from kofu.city.adapters.tables import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The first revision creates the tables exactly as kofu.city.adapters.tables
# declared them when it was written; later revisions alter them step by step.
_TABLES = (
    "city_profile",
    "towns",
    "residents",
    "resident_versions",
    "family_registers",
    "seals",
    "tax_assessments",
    "support_measures",
    "issuance_blocks",
    "counters",
    "event_log",
    "issuance_log",
)


def upgrade() -> None:
    bind = op.get_bind()
    metadata.create_all(bind, tables=[metadata.tables[name] for name in _TABLES])


def downgrade() -> None:
    bind = op.get_bind()
    metadata.drop_all(bind, tables=[metadata.tables[name] for name in reversed(_TABLES)])
