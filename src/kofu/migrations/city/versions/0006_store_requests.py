"""What the certificate server answered under each of the center's request ids.

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
        "store_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("request_digest", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issue_number", sa.Integer()),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("pdf", sa.LargeBinary()),
    )


def downgrade() -> None:
    op.drop_table("store_requests")
