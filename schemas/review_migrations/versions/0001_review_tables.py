"""Create the review queue: users, workgroups, items, suggestions, decisions, audit.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "review_users",
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "review_user_workgroups",
        sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.user_id"), primary_key=True),
        sa.Column("workgroup", sa.String(64), primary_key=True),
    )
    op.create_table(
        "review_items",
        sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("note_id", sa.Text, nullable=False),
        sa.Column("note_ids", sa.Text, nullable=False),
        sa.Column("workgroup", sa.String(64), nullable=False),
        sa.Column("patient_id", sa.String(64)),
        sa.Column("encounter_id", sa.String(64)),
        sa.Column("note_type", sa.String(64)),
        sa.Column("note_date", sa.Date),
        sa.Column("note_text", sa.Text),
        sa.Column("text_hmac", sa.String(64)),
        sa.Column("hcc_impact", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("claimed_by", sa.Integer, sa.ForeignKey("review_users.user_id")),
        sa.Column("lease_expires_at", WHEN),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("submitted_at", WHEN),
        sa.Column("submitted_by", sa.Integer, sa.ForeignKey("review_users.user_id")),
        sa.UniqueConstraint("run_id", "note_id", name="uq_review_item_run_note"),
    )
    op.create_index("ix_review_items_note", "review_items", ["note_id"])
    op.create_index(
        "ix_review_items_queue", "review_items", ["status", sa.text("priority DESC"), "item_id"]
    )
    op.create_index("ix_review_items_holder", "review_items", ["claimed_by", "status"])
    op.create_index("ix_review_items_lease", "review_items", ["status", "lease_expires_at"])
    op.create_table(
        "review_suggestions",
        sa.Column("suggestion_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("review_items.item_id"), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("hccs", sa.Text, nullable=False),
        sa.Column("hcc_impact", sa.Float, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
    )
    op.create_index("ix_review_suggestions_item", "review_suggestions", ["item_id"])
    op.create_table(
        "review_decisions",
        sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("review_items.item_id"), nullable=False),
        sa.Column("suggestion_id", sa.Integer, sa.ForeignKey("review_suggestions.suggestion_id")),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("code", sa.String(16)),
        sa.Column("reason_code", sa.String(32)),
        sa.Column("comment", sa.Text),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.user_id"), nullable=False),
        sa.Column("decided_at", WHEN, nullable=False),
        sa.UniqueConstraint("item_id", "suggestion_id", name="uq_review_decision_suggestion"),
    )
    op.create_index("ix_review_decisions_item", "review_decisions", ["item_id"])
    op.create_table(
        "review_audit",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("username", sa.String(64)),
        sa.Column("item_id", sa.Integer),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_review_audit_item", "review_audit", ["item_id"])
    op.create_index("ix_review_audit_action", "review_audit", ["action", "username", "at"])
    _make_audit_append_only()


def _make_audit_append_only() -> None:
    # The audit trail is evidence: the database itself refuses to change or drop a row.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION review_audit_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'review_audit is append-only'; END; $$ LANGUAGE plpgsql"
        )
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER review_audit_no_{event.lower()} BEFORE {event} ON review_audit "
                "FOR EACH ROW EXECUTE FUNCTION review_audit_refuse()"
            )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER review_audit_no_{event.lower()} BEFORE {event} ON review_audit "
                "BEGIN SELECT RAISE(ABORT, 'review_audit is append-only'); END"
            )


def downgrade() -> None:
    for table in (
        "review_audit",
        "review_decisions",
        "review_suggestions",
        "review_items",
        "review_user_workgroups",
        "review_users",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS review_audit_refuse()")
