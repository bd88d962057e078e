"""OMOP NOTE input: the column mapping, CSV files, and partitioned database reads."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.conftest import REPO_ROOT
from transforms.io.omop import QuerySource, omop_note_fields
from transforms.io.readers import ReadOptions, check_inputs, read_records

SAMPLE_NOTE_TABLE = REPO_ROOT / "examples" / "ehr" / "omop" / "note.csv"


def test_note_columns_map_onto_deidcode_fields_and_the_rest_keep_their_names():
    fields = omop_note_fields(
        {
            "note_id": 11,
            "person_id": 7,
            "note_text": "Seen.",
            "note_date": None,
            "note_datetime": dt.datetime(2024, 1, 2, 9, 30),
            "visit_occurrence_id": 99,
            "note_class_concept_id": 44814640,
            "note_title": "Progress",
        }
    )
    assert fields == {
        "note_id": 11,
        "patient_id": 7,
        "text": "Seen.",
        "encounter_id": 99,
        "note_type": 44814640,
        "note_date": dt.date(2024, 1, 2),
        "note_datetime": dt.datetime(2024, 1, 2, 9, 30),
        "note_title": "Progress",
    }


def test_a_note_table_in_csv_reads_with_the_mapping():
    records = list(read_records(str(SAMPLE_NOTE_TABLE), "omop-note"))
    assert len(records) == 50
    first = records[0].fields
    assert first["note_id"] == "1001" and first["patient_id"] == "1"
    assert first["text"].startswith("DISCHARGE SUMMARY")


def test_a_row_whose_ids_are_not_integers_is_refused_alone(tmp_path):
    table = tmp_path / "note.csv"
    table.write_text(
        "note_id,person_id,note_text\n1,2,fine\nN-17,2,Jane Roe seen\n3,P9,x\n4,2,fine\n"
    )
    records = list(read_records(str(table), "omop-note"))
    assert [(r.error, r.detail) for r in records] == [
        (None, None),
        ("invalid_omop_row", "note_id is not an integer"),
        ("invalid_omop_row", "person_id is not an integer"),
        (None, None),
    ]


def test_a_table_without_the_note_columns_is_refused_before_the_run(tmp_path):
    table = tmp_path / "note.csv"
    table.write_text("note_id,person_id,text\n1,2,x\n")
    with pytest.raises(ValueError, match="lacks required column.*note_text"):
        check_inputs([str(table)], "omop-note", ["note_id", "patient_id", "text"])


def make_note_table(url: str, rows: int) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE note (note_id BIGINT, person_id BIGINT, note_date DATE, "
                "note_text TEXT, note_class_concept_id INTEGER)"
            )
        )
        values = [
            {
                "id": None if i == rows else i * 3 - 40,  # negative ids, gaps and one null
                "person": i % 5,
                "date": dt.date(2024, 1, 1) + dt.timedelta(days=i),
                "text": f"note {i}",
            }
            for i in range(1, rows + 1)
        ]
        connection.execute(
            sa.text(
                "INSERT INTO note (note_id, person_id, note_date, note_text, "
                "note_class_concept_id) VALUES (:id, :person, :date, :text, 0)"
            ),
            values,
        )
    engine.dispose()


def read_all(source: QuerySource) -> list:
    options = ReadOptions(query=source)
    records = []
    for name in source.partition_names("db"):
        records.extend(read_records(name, "omop-note", options))
    return records


@pytest.mark.parametrize("partitions", [1, 3, 8])
def test_a_query_is_read_in_partitions_with_every_row_exactly_once(tmp_path, partitions):
    url = f"sqlite:///{tmp_path / 'cdm.sqlite'}"
    make_note_table(url, 40)
    source = QuerySource(url, "SELECT * FROM note WHERE note_class_concept_id = 0;").plan(
        partitions
    )
    assert source.partitions == partitions
    records = read_all(source)
    texts = sorted(r.fields["text"] for r in records)
    assert texts == sorted(f"note {i}" for i in range(1, 41))  # the null-id row included
    # Record numbers are positions within a partition, in note_id order: stable.
    assert [(r.source_file, r.record_number) for r in records] == [
        (r.source_file, r.record_number) for r in read_all(source)
    ]
    assert all(r.source_file.startswith("db#query=") for r in records)


def test_a_query_without_integer_ids_is_read_whole_and_refused_row_by_row(tmp_path):
    url = f"sqlite:///{tmp_path / 'cdm.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE n (note_id TEXT, person_id TEXT, note_text TEXT)"))
        connection.execute(sa.text("INSERT INTO n VALUES ('a', 'p', 'x'), ('b', 'p', 'y')"))
    engine.dispose()
    source = QuerySource(url, "SELECT * FROM n").plan(4)
    assert source.partitions == 1
    # Read once, whole; the CDM types note_id as an integer, so each row is refused.
    assert [(r.note_id, r.error) for r in read_all(source)] == [
        ("a", "invalid_omop_row"),
        ("b", "invalid_omop_row"),
    ]


def test_text_bytes_that_are_not_utf8_quarantine_that_row_alone(tmp_path):
    url = f"sqlite:///{tmp_path / 'cdm.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("CREATE TABLE n (note_id INTEGER, person_id INTEGER, note_text BLOB)")
        )
        connection.execute(
            sa.text("INSERT INTO n VALUES (1, 1, :good), (2, 1, :bad), (3, 1, :good)"),
            {"good": b"fine", "bad": b"\xff\xfe"},
        )
    engine.dispose()
    records = read_all(QuerySource(url, "SELECT * FROM n").plan(1))
    assert [(r.note_id, r.error) for r in records] == [
        (None, None),
        ("2", "invalid_utf8"),
        (None, None),
    ]


@pytest.mark.postgres
def test_partitioned_reads_on_postgresql(postgres_url):
    make_note_table(postgres_url, 60)
    source = QuerySource(postgres_url, "SELECT * FROM note").plan(4)
    records = read_all(source)
    assert sorted(r.fields["text"] for r in records) == sorted(f"note {i}" for i in range(1, 61))
    assert len({r.source_file for r in records}) == 4
