"""One check for every database deidcode migrates: the migrations reach head, a
second upgrade changes nothing, and the tables match the Table objects."""

from __future__ import annotations

from types import ModuleType

import sqlalchemy as sa


def check_migrations_match_tables(url: str, schema: ModuleType) -> None:
    engine = sa.create_engine(url)
    try:
        assert schema.current_revision(engine) is None
        schema.upgrade_schema(engine)
        schema.upgrade_schema(engine)  # idempotent: a second run changes nothing
        assert schema.current_revision(engine) == schema.HEAD_REVISION
        inspector = sa.inspect(engine)
        for table in schema.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            assert indexes >= {i.name for i in table.indexes}, table.name
    finally:
        engine.dispose()
