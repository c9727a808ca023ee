"""The city's registers, history, counters and logs.

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
        "city_profile",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Integer(), nullable=False),
    )
    op.create_table(
        "event_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("batch", sa.String(36), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
    )
    op.create_index("ix_event_log_batch", "event_log", ["batch"])
    op.create_table(
        "family_registers",
        sa.Column("register_id", sa.String(16), primary_key=True),
        sa.Column("domicile", sa.String(128), nullable=False),
        sa.Column("head_name", sa.String(64), nullable=False),
        sa.Column("closed_on", sa.Date()),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "issuance_blocks",
        sa.Column("block_id", sa.String(40), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_issuance_blocks_resident_code", "issuance_blocks", ["resident_code"])
    op.create_table(
        "issuance_log",
        sa.Column("issue_number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("certificate", sa.String(32), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("content_digest", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_issuance_log_resident_code", "issuance_log", ["resident_code"])
    op.create_table(
        "resident_versions",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "residents",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("individual_number", sa.String(12), nullable=False, unique=True),
        sa.Column("household_id", sa.String(16), nullable=False),
        sa.Column("family_register_id", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kana", sa.String(128), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_residents_household_id", "residents", ["household_id"])
    op.create_index("ix_residents_family_register_id", "residents", ["family_register_id"])
    op.create_table(
        "seals",
        sa.Column("registration_number", sa.String(16), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("image", sa.LargeBinary()),
    )
    op.create_index("ix_seals_resident_code", "seals", ["resident_code"])
    op.create_table(
        "support_measures",
        sa.Column("measure_id", sa.String(40), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_support_measures_resident_code", "support_measures", ["resident_code"])
    op.create_table(
        "tax_assessments",
        sa.Column("resident_code", sa.String(11), primary_key=True),
        sa.Column("fiscal_year", sa.Integer(), primary_key=True),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_table(
        "towns",
        sa.Column("town", sa.String(64), primary_key=True),
        sa.Column("kana", sa.String(128), nullable=False),
        sa.Column("postal_code", sa.String(7), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("towns")
    op.drop_table("tax_assessments")
    op.drop_table("support_measures")
    op.drop_table("seals")
    op.drop_table("residents")
    op.drop_table("resident_versions")
    op.drop_table("issuance_log")
    op.drop_table("issuance_blocks")
    op.drop_table("family_registers")
    op.drop_table("event_log")
    op.drop_table("counters")
    op.drop_table("city_profile")
