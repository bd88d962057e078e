"""Key the audit's note digest, and add the surrogate ledger.

``deid_note_audit.text_sha256`` held an unkeyed sha256 of the original note
text, so anyone holding a note could confirm it is in the data. The column
becomes ``text_hmac``, an HMAC under the run key's digest sub-key. Earlier
values cannot be keyed after the fact, so they are cleared.

``deid_surrogate_ledger`` keeps, per patient pseudonym and keyed word digest,
the surrogate that word was given, so that a word keeps its surrogate across
runs and no two words of one patient share one.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE deid_note_audit SET text_sha256 = NULL")
    with op.batch_alter_table("deid_note_audit") as batch:
        batch.alter_column("text_sha256", new_column_name="text_hmac")
    op.create_table(
        "deid_surrogate_ledger",
        sa.Column("patient_id", sa.String(64), primary_key=True),
        sa.Column("word_digest", sa.String(64), primary_key=True),
        sa.Column("surrogate", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("deid_runs.run_id"), nullable=False),
        sa.UniqueConstraint("patient_id", "surrogate", name="uq_ledger_patient_surrogate"),
    )


def downgrade() -> None:
    op.drop_table("deid_surrogate_ledger")
    with op.batch_alter_table("deid_note_audit") as batch:
        batch.alter_column("text_hmac", new_column_name="text_sha256")
