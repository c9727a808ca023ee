"""Sessions bound to one kiosk and one request; print jobs to their kiosk; failed sign-ins.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("kiosk", sa.String(48), nullable=False, server_default=""))
        batch.add_column(sa.Column("request_id", sa.String(64)))
        batch.add_column(sa.Column("certificate", sa.LargeBinary()))
    with op.batch_alter_table("issuances") as batch:
        batch.add_column(sa.Column("kiosk", sa.String(48), nullable=False, server_default=""))
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("auth_serial", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
    )
    op.create_index("ix_sign_in_failures_serial_at", "sign_in_failures", ["auth_serial", "at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_serial_at", "sign_in_failures")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("issuances") as batch:
        batch.drop_column("kiosk")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("certificate")
        batch.drop_column("request_id")
        batch.drop_column("kiosk")
