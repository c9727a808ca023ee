"""The office web app: staff accounts, their sessions, and the append-only audit trail.

Revision ID: 0007_office
Revises: 0006

The audit table refuses UPDATE and DELETE in the database itself (a trigger
on SQLite and on PostgreSQL), so that even a bug in the app cannot rewrite
it; someone holding the database file can still drop the trigger, which is
what the hash chain and ``kofu audit verify`` are for.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_office"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_staff",
        sa.Column("user_name", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "office_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(32), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "office_audit",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("staff", sa.String(32), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("resident", sa.String(16), nullable=False, index=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER office_audit_no_{verb.lower()} BEFORE {verb} ON office_audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION office_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER office_audit_append_only BEFORE UPDATE OR DELETE ON office_audit "
            "FOR EACH ROW EXECUTE FUNCTION office_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER IF EXISTS office_audit_append_only ON office_audit")
        op.execute("DROP FUNCTION IF EXISTS office_audit_append_only()")
    op.drop_table("office_audit")
    op.drop_table("office_sessions")
    op.drop_table("office_staff")
