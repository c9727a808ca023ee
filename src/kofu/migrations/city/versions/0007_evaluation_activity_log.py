"""The activity log the evaluation sheets count, and its daily sums (branch evaluation).

Revision ID: 0007_evaluation
Revises: 0007_juki_services
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_evaluation"
down_revision = "0007_juki_services"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "activity_log",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False, server_default=""),
        sa.Column("doc_type", sa.String(64), nullable=False, server_default=""),
        sa.Column("role", sa.String(64), nullable=False, server_default=""),
        sa.Column("cause", sa.String(64), nullable=False, server_default=""),
        sa.Column("copies", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("fee_yen", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("programme", sa.String(16), nullable=False, server_default=""),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("ref", sa.String(96)),
        sa.Column("voids", _ID),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text()),
    )
    op.create_index("ix_activity_log_kind_day", "activity_log", ["kind", "day"])
    # unique where set: most rows (imports) have neither, and stay out of these indexes
    for column in ("ref", "voids"):
        op.create_index(
            f"ix_activity_log_{column}",
            "activity_log",
            [column],
            unique=True,
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_table(
        "activity_daily",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(48), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("doc_type", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(64), primary_key=True),
        sa.Column("cause", sa.String(64), primary_key=True),
        sa.Column("programme", sa.String(16), primary_key=True),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("copies", sa.BigInteger(), nullable=False),
        sa.Column("fee_yen", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("activity_daily")
    op.drop_index("ix_activity_log_voids", table_name="activity_log")
    op.drop_index("ix_activity_log_ref", table_name="activity_log")
    op.drop_index("ix_activity_log_kind_day", table_name="activity_log")
    op.drop_table("activity_log")
