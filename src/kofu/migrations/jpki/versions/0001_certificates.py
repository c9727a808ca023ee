"""Issued certificates and the revocation counter.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("serial", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("city", sa.String(6), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("card_id", sa.String(32), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("cause", sa.String(24)),
        sa.Column("der", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_certificates_card_id", "certificates", ["card_id"])
    op.create_index("ix_certificates_kind_status", "certificates", ["kind", "status"])
    op.create_table(
        "revision",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("revision")
    op.drop_table("certificates")
