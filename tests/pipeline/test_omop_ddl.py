"""A run's OMOP copy loads into the official OMOP CDM v5.4 tables on PostgreSQL."""

from __future__ import annotations

import re
import uuid

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.conftest import REPO_ROOT
from tests.pipeline.helpers import run_export

DDL = REPO_ROOT / "schemas" / "omop" / "OMOPCDM_postgresql_5.4_ddl.sql"
OMOP_TABLE = REPO_ROOT / "examples" / "ehr" / "omop" / "note.csv"
# With 63-bit ids, the id columns are widened as large CDMs do.
WIDEN = [
    ("note", "note_id"),
    ("note", "person_id"),
    ("note", "visit_occurrence_id"),
    ("note_nlp", "note_nlp_id"),
    ("note_nlp", "note_id"),
]

pytestmark = pytest.mark.postgres


def create_cdm(connection, schema: str) -> None:
    connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    ddl = DDL.read_text(encoding="utf-8").replace("@cdmDatabaseSchema", schema)
    for statement in (s.strip() for s in re.split(r";\s*\n", ddl)):
        if statement and not all(line.startswith("--") for line in statement.splitlines()):
            connection.execute(sa.text(statement))


def load(connection, schema: str, table: str, directory) -> int:
    rows = [
        row
        for path in sorted(directory.glob("*.parquet"))
        for row in pq.read_table(path).to_pylist()
    ]
    if rows:
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f":{c}" for c in columns)
        statement = f"INSERT INTO {schema}.{table} ({names}) VALUES ({values})"
        connection.execute(sa.text(statement), rows)
    return len(rows)


@pytest.mark.parametrize("id_bits", [31, 63])
def test_the_omop_copy_loads_into_the_official_ddl(tmp_path, run_key, postgres_url, id_bits):
    config = tmp_path / "omop.yaml"
    config.write_text(
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        "coding: {enabled: false}\n"
        "input:\n  column_policies:\n    note_title: deid_text\n"
        "    note_type_concept_id: keep\n    language_concept_id: keep\n"
        f"output:\n  omop: {{enabled: true, nlp_date: 2026-11-30, id_bits: {id_bits}}}\n"
    )
    out = tmp_path / "run"
    assert run_export(OMOP_TABLE, out, fmt="omop-note", config=config) == 0
    engine = sa.create_engine(postgres_url)
    schema = f"cdm_{uuid.uuid4().hex[:10]}"
    try:
        _load_and_check(engine, schema, out, id_bits)
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


def _load_and_check(engine, schema: str, out, id_bits: int) -> None:
    with engine.begin() as connection:
        create_cdm(connection, schema)
        if id_bits == 63:
            for table, column in WIDEN:
                connection.execute(
                    sa.text(f"ALTER TABLE {schema}.{table} ALTER COLUMN {column} TYPE bigint")
                )
        notes = load(connection, schema, "note", out / "omop" / "note")
        terms = load(connection, schema, "note_nlp", out / "omop" / "note_nlp")
        assert notes == 48 and terms > 0
        joined = connection.execute(
            sa.text(
                f"SELECT count(*) FROM {schema}.note_nlp n JOIN {schema}.note t "
                "ON n.note_id = t.note_id "
                'WHERE substr(t.note_text, n."offset"::int + 1, length(n.lexical_variant)) '
                "= n.lexical_variant"
            )
        ).scalar_one()
        assert joined == terms  # every term found where its offset says, in its note
