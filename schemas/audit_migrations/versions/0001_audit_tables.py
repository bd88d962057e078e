"""Create the run and per-note audit tables.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

PHI_COUNT_COLUMNS = (
    "n_name",
    "n_date",
    "n_age",
    "n_location",
    "n_contact",
    "n_id",
    "n_profession",
    "n_other",
)


def upgrade() -> None:
    op.create_table(
        "deid_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config_sha256", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("package_version", sa.String(64), nullable=False),
        sa.Column("output_dir", sa.Text, nullable=False),
        sa.Column("records_read", sa.BigInteger),
        sa.Column("notes_written", sa.BigInteger),
        sa.Column("records_quarantined", sa.BigInteger),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "deid_note_audit",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("deid_runs.run_id"), primary_key=True),
        sa.Column("source_file", sa.Text, primary_key=True),
        sa.Column("record_number", sa.BigInteger, primary_key=True),
        sa.Column("note_id", sa.Text),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("text_sha256", sa.String(64)),
        *[sa.Column(name, sa.Integer, nullable=False) for name in PHI_COUNT_COLUMNS],
        sa.Column("n_phi", sa.Integer, nullable=False),
        sa.Column("detectors", sa.Text, nullable=False),
        sa.Column("processing_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_deid_note_audit_note_id", "deid_note_audit", ["note_id"])


def downgrade() -> None:
    op.drop_index("ix_deid_note_audit_note_id", table_name="deid_note_audit")
    op.drop_table("deid_note_audit")
    op.drop_table("deid_runs")
