"""Alembic, run on a connection deidcode hands in: shared by the audit and review databases."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config


def alembic_config(migrations_dir: Path, connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: sa.Engine, migrations_dir: Path) -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(migrations_dir, connection), "head")


def revision_in(engine: sa.Engine, version_table: str) -> str | None:
    """The revision a database is at; None before the first migration."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(version_table):
            return None
        return connection.execute(sa.text(f"SELECT version_num FROM {version_table}")).scalar()
