"""Alembic environment: runs migrations on the connection deidcode hands in."""

from alembic import context

from schemas.review_db import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
