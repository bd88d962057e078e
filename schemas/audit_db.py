"""The audit database: SQLAlchemy table definitions and versioned schema migrations.

The schema is created and upgraded by Alembic migrations in
``schemas/audit_migrations``; these Table objects mirror the latest revision
and are what the writer inserts through. A test checks the two agree.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from schemas.migrations import revision_in, upgrade_to_head
from schemas.tables import PHI_COUNT_COLUMNS

MIGRATIONS_DIR = Path(__file__).with_name("audit_migrations")
VERSION_TABLE = "deidcode_schema_version"
HEAD_REVISION = "0002"

metadata = sa.MetaData()

runs = sa.Table(
    "deid_runs",
    metadata,
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

note_audit = sa.Table(
    "deid_note_audit",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("deid_runs.run_id"), primary_key=True),
    sa.Column("source_file", sa.Text, primary_key=True),
    sa.Column("record_number", sa.BigInteger, primary_key=True),
    sa.Column("note_id", sa.Text),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64)),
    sa.Column("text_hmac", sa.String(64)),
    *[sa.Column(name, sa.Integer, nullable=False) for name in PHI_COUNT_COLUMNS],
    sa.Column("n_phi", sa.Integer, nullable=False),
    sa.Column("detectors", sa.Text, nullable=False),
    sa.Column("processing_ms", sa.Float, nullable=False),
)

# Per patient pseudonym and keyed word digest, the surrogate the word was given
# (``transforms.redaction.surrogates.assign_words``). No PHI: both keys are keyed
# digests, and the surrogate is a pool name already in the release.
surrogate_ledger = sa.Table(
    "deid_surrogate_ledger",
    metadata,
    sa.Column("patient_id", sa.String(64), primary_key=True),
    sa.Column("word_digest", sa.String(64), primary_key=True),
    sa.Column("surrogate", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("deid_runs.run_id"), nullable=False),
    sa.UniqueConstraint("patient_id", "surrogate", name="uq_ledger_patient_surrogate"),
)


def upgrade_schema(engine: sa.Engine) -> None:
    """Create or upgrade the audit tables to the latest revision."""
    upgrade_to_head(engine, MIGRATIONS_DIR)


def current_revision(engine: sa.Engine) -> str | None:
    return revision_in(engine, VERSION_TABLE)
