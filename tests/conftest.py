"""Shared fixtures. Network access is blocked for every test by pytest-socket
(see pyproject's addopts); only loopback is allowed, for PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = REPO_ROOT / "examples" / "sample_notes.csv"
TEST_KEY = "test-key-0123456789abcdef0123456789abcdef"
POSTGRES_URL = os.environ.get(
    "DEIDCODE_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def run_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DEIDCODE_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL 'test' database, dropped afterwards."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    schema = f"deidcode_test_{uuid.uuid4().hex[:10]}"
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {type(exc).__name__}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
