"""Juki-net services between cities: wide-area certificates and special moves.

``citylink_requests``: every wide-area certificate, once at the issuing city
and once at the home city (statistics for both, and the answer kept under
its request id).  ``move_outs``: the 転出証明書情報 a special move-out left
for the destination city.  ``move_ins``: the move-out data a special
move-in used, so the same data never registers anyone twice.

Revision ID: 0007_juki_services
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_juki_services"
down_revision = "juki_net_cs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citylink_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(8), primary_key=True),
        sa.Column("issuing_city", sa.String(6), nullable=False),
        sa.Column("home_city", sa.String(6), nullable=False),
        sa.Column("resident_code", sa.String(11), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("issue_number", sa.Integer()),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "move_outs",
        sa.Column("move_out_id", sa.String(64), primary_key=True),
        sa.Column("resident_code", sa.String(11), nullable=False, index=True),
        sa.Column("to_city", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "move_ins",
        sa.Column("move_out_id", sa.String(64), primary_key=True),
        sa.Column("from_city", sa.String(6), nullable=False),
        sa.Column("moved_on", sa.Date(), nullable=False),
        sa.Column("residents", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("move_ins")
    op.drop_table("move_outs")
    op.drop_table("citylink_requests")
