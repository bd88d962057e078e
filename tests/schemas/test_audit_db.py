"""The audit schema migrates on SQLite and PostgreSQL and matches the Table objects."""

import pytest
import sqlalchemy as sa

from schemas import audit_db
from tests.schemas.migration_checks import check_migrations_match_tables


def _check_schema(url: str) -> None:
    check_migrations_match_tables(url, audit_db)


def test_sqlite_migrations(tmp_path):
    _check_schema(f"sqlite:///{tmp_path / 'audit.sqlite'}")


@pytest.mark.postgres
def test_postgres_migrations(postgres_url):
    _check_schema(postgres_url)


def _check_upgrade_from_0001(url: str) -> None:
    """An audit database from before keyed digests: its unkeyed note digests are
    cleared (they cannot be keyed after the fact) and the column renamed."""
    from alembic import command

    from schemas.audit_db import MIGRATIONS_DIR
    from schemas.migrations import alembic_config

    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(MIGRATIONS_DIR, connection), "0001")
            connection.execute(
                sa.text(
                    "INSERT INTO deid_runs (run_id, started_at, status, config_sha256, "
                    "key_fingerprint, package_version, output_dir) VALUES "
                    "('r1', '2026-01-01', 'succeeded', 'c', 'k', '0', '/out')"
                )
            )
            counts = ", ".join(["0"] * 9)
            connection.execute(
                sa.text(
                    "INSERT INTO deid_note_audit (run_id, source_file, record_number, note_id, "
                    "outcome, text_sha256, n_name, n_date, n_age, n_location, n_contact, n_id, "
                    f"n_profession, n_other, n_phi, detectors, processing_ms) VALUES "
                    f"('r1', 'f.csv', 1, 'n1', 'released', '{'a' * 64}', {counts}, '[]', 1.0)"
                )
            )
        audit_db.upgrade_schema(engine)
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT note_id, text_hmac FROM deid_note_audit"))
            assert rows.all() == [("n1", None)]
            assert sa.inspect(connection).has_table("deid_surrogate_ledger")
    finally:
        engine.dispose()


def test_sqlite_upgrade_clears_unkeyed_digests(tmp_path):
    _check_upgrade_from_0001(f"sqlite:///{tmp_path / 'audit.sqlite'}")


@pytest.mark.postgres
def test_postgres_upgrade_clears_unkeyed_digests(postgres_url):
    _check_upgrade_from_0001(postgres_url)
