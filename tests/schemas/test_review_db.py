"""The review queue schema migrates on SQLite and PostgreSQL and matches the Table objects."""

import pytest

from schemas import review_db
from tests.schemas.migration_checks import check_migrations_match_tables


def test_sqlite_review_migrations(tmp_path):
    check_migrations_match_tables(f"sqlite:///{tmp_path / 'review.sqlite'}", review_db)


@pytest.mark.postgres
def test_postgres_review_migrations(postgres_url):
    check_migrations_match_tables(postgres_url, review_db)
