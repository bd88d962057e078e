"""The audit schema migrates on SQLite and PostgreSQL and matches the Table objects."""

import pytest
import sqlalchemy as sa

from schemas.audit_db import HEAD_REVISION, current_revision, metadata, upgrade_schema


def _check_schema(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade_schema(engine)
        upgrade_schema(engine)  # idempotent: a second run changes nothing
        assert current_revision(engine) == HEAD_REVISION
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_sqlite_migrations(tmp_path):
    _check_schema(f"sqlite:///{tmp_path / 'audit.sqlite'}")


@pytest.mark.postgres
def test_postgres_migrations(postgres_url):
    _check_schema(postgres_url)
