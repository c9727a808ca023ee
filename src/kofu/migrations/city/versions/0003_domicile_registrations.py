"""本籍地利用登録: registrations of people domiciled here who live elsewhere.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domicile_registrations",
        sa.Column("registration_id", sa.String(16), primary_key=True),
        sa.Column("auth_serial", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_domicile_registrations_auth_serial", "domicile_registrations", ["auth_serial"]
    )
    op.create_index("ix_family_registers_domicile", "family_registers", ["domicile"])


def downgrade() -> None:
    op.drop_index("ix_family_registers_domicile", "family_registers")
    op.drop_table("domicile_registrations")
