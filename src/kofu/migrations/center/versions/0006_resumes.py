"""Resumes of a city's issuance after an alarm (who, when, which city, why; append-only),
and sessions a kiosk ended (中止) before spending them.

A city is stopped while an alarm naming it is newer than its last resume
(``through_alarm``: the newest alarm the resume answered).  Alarms raised
before this revision stay standing until a supervisor resumes the city.
An ended session can no longer be spent; it still counts as a sign-in
abandoned unspent (the stolen-card watch), and leaves at its expiry.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resumes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("city", sa.String(6), nullable=False),
        sa.Column("operator", sa.String(48), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("through_alarm", sa.Integer(), nullable=False),
    )
    op.create_index("ix_resumes_city_through", "resumes", ["city", "through_alarm"])
    op.create_index("ix_alarms_city_id", "alarms", ["city", "id"])
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("ended", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("ended")
    op.drop_index("ix_alarms_city_id", "alarms")
    op.drop_index("ix_resumes_city_through", "resumes")
    op.drop_table("resumes")
