"""An index for the print-timeout sweep, which looks for rendered jobs by age.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_issuances_state_updated_at", "issuances", ["state", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_issuances_state_updated_at", "issuances")
