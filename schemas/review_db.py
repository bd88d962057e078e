"""The coder review queue's database: SQLAlchemy tables and versioned migrations.

The same schema on SQLite (the embedded default) and PostgreSQL, created and
upgraded by the Alembic migrations in ``schemas/review_migrations``; these
Table objects mirror the latest revision (a test checks the two agree).

The database holds PHI: ``review_items.note_text`` is the original note, which
coders read inside the covered entity. Nothing else here does: the audit
events carry ids, codes and counts.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from schemas.migrations import revision_in, upgrade_to_head

MIGRATIONS_DIR = Path(__file__).with_name("review_migrations")
VERSION_TABLE = "review_schema_version"
HEAD_REVISION = "0001"

ROLES = ("coder", "lead", "admin")
# queued: waiting (or claimed with an expired lease); claimed: a coder holds it;
# submitted: decided; superseded: a newer run replaced it before anyone claimed
# it; quarantined: its text did not match the run's audit digest.
ITEM_STATUSES = ("queued", "claimed", "submitted", "superseded", "quarantined")
ACTIONS = ("accept", "reject", "edit", "add")

metadata = sa.MetaData()

users = sa.Table(
    "review_users",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

user_workgroups = sa.Table(
    "review_user_workgroups",
    metadata,
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.user_id"), primary_key=True),
    sa.Column("workgroup", sa.String(64), primary_key=True),
)

items = sa.Table(
    "review_items",
    metadata,
    sa.Column("item_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    # The note's id, or "encounter:" and the encounter pseudonym for an item that
    # holds an encounter's notes (note_ids: JSON list, in reading order).
    sa.Column("note_id", sa.Text, nullable=False),
    sa.Column("note_ids", sa.Text, nullable=False),
    sa.Column("workgroup", sa.String(64), nullable=False),
    sa.Column("patient_id", sa.String(64)),  # the run's keyed pseudonym
    sa.Column("encounter_id", sa.String(64)),  # the run's keyed pseudonym
    sa.Column("note_type", sa.String(64)),
    sa.Column("note_date", sa.Date),
    sa.Column("note_text", sa.Text),  # PHI; null when quarantined
    sa.Column("text_hmac", sa.String(64)),
    sa.Column("hcc_impact", sa.Float, nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("priority", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64)),  # why quarantined or superseded
    sa.Column("claimed_by", sa.Integer, sa.ForeignKey("review_users.user_id")),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("submitted_by", sa.Integer, sa.ForeignKey("review_users.user_id")),
    sa.UniqueConstraint("run_id", "note_id", name="uq_review_item_run_note"),
    sa.Index("ix_review_items_note", "note_id"),
    # Claim-next walks queued items in priority order; a holder finds their chart;
    # lapsed leases are found by their expiry.
    sa.Index("ix_review_items_queue", "status", sa.text("priority DESC"), "item_id"),
    sa.Index("ix_review_items_holder", "claimed_by", "status"),
    sa.Index("ix_review_items_lease", "status", "lease_expires_at"),
)

suggestions = sa.Table(
    "review_suggestions",
    metadata,
    sa.Column("suggestion_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("review_items.item_id"), nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("hccs", sa.Text, nullable=False),  # JSON list of "HCC37"-style labels
    sa.Column("hcc_impact", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON [[start, end], ...] in note_text
    sa.Index("ix_review_suggestions_item", "item_id"),
)

decisions = sa.Table(
    "review_decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("review_items.item_id"), nullable=False),
    # Null for a code the coder added; one decision per suggestion.
    sa.Column("suggestion_id", sa.Integer, sa.ForeignKey("review_suggestions.suggestion_id")),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("code", sa.String(16)),  # the code that stands: null when rejected
    sa.Column("reason_code", sa.String(32)),
    sa.Column("comment", sa.Text),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("review_users.user_id"), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("item_id", "suggestion_id", name="uq_review_decision_suggestion"),
    sa.Index("ix_review_decisions_item", "item_id"),
)

# Append-only (triggers refuse UPDATE and DELETE): who did what, when. Carries
# ids, codes and counts, never note text.
audit_events = sa.Table(
    "review_audit",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("username", sa.String(64)),
    sa.Column("item_id", sa.Integer),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),  # JSON
    sa.Index("ix_review_audit_item", "item_id"),
    sa.Index("ix_review_audit_action", "action", "username", "at"),
)


def upgrade_schema(engine: sa.Engine) -> None:
    """Create or upgrade the review tables to the latest revision."""
    upgrade_to_head(engine, MIGRATIONS_DIR)


def current_revision(engine: sa.Engine) -> str | None:
    return revision_in(engine, VERSION_TABLE)
