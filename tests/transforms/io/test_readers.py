import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from transforms.io.readers import (
    InputError,
    check_inputs,
    read_csv,
    read_jsonl,
    read_parquet,
    select_inputs,
)

REQUIRED = ["note_id", "patient_id", "text"]


def test_csv_reads_multiline_quoted_fields(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('note_id,patient_id,text\n1,p,"line one\nline two"\n2,p,plain\n')
    records = list(read_csv(str(path)))
    assert [r.fields["text"] for r in records] == ["line one\nline two", "plain"]
    assert [r.record_number for r in records] == [1, 2]


def test_csv_malformed_row_is_quarantined_and_reading_goes_on(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('note_id,patient_id,text\n1,p,ok\n2,p,too,many\n3,p,"bad"quote\n4,p,fine\n')
    records = list(read_csv(str(path)))
    assert [(r.record_number, r.error) for r in records] == [
        (1, None),
        (2, "malformed_csv_row"),
        (3, "malformed_csv_row"),
        (4, None),
    ]
    assert records[-1].fields["text"] == "fine"


def test_csv_invalid_utf8_is_quarantined_per_record(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"note_id,patient_id,text\n1,p,caf\xe9\n2,p,ok\n")
    records = list(read_csv(str(path)))
    assert records[0].error == "invalid_utf8"
    assert records[0].fields is None
    assert records[1].fields["text"] == "ok"


def test_jsonl_bad_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"note_id": 1, "text": "a"}\n\nnot json\n[1, 2]\n{"text": "caf\xe9"}\n')
    records = list(read_jsonl(str(path)))
    assert [r.error for r in records] == [None, "malformed_json", "malformed_json", "invalid_utf8"]
    assert all("caf" not in (r.detail or "") for r in records)


def test_parquet_rows(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"note_id": ["1"], "patient_id": ["p"], "text": ["t"]}), path)
    assert [r.fields for r in read_parquet(str(path))] == [
        {"note_id": "1", "patient_id": "p", "text": "t"}
    ]


def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        select_inputs(str(tmp_path / "nope.csv"))
    with pytest.raises(InputError, match="matches no file"):
        select_inputs(str(tmp_path / "*.csv"))


def test_glob_and_directory_are_sorted(tmp_path):
    for name in ("b.csv", "a.csv"):
        (tmp_path / name).write_text("x")
    assert [p.rsplit("/", 1)[1] for p in select_inputs(str(tmp_path / "*.csv")).files] == [
        "a.csv",
        "b.csv",
    ]
    assert len(select_inputs(str(tmp_path), "csv").files) == 2


def test_missing_required_column_stops_before_the_run(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("note_id,text\n1,x\n")
    with pytest.raises(InputError, match=r"a\.csv lacks required column\(s\) patient_id"):
        check_inputs([str(path)], "csv", REQUIRED)
    parquet = tmp_path / "a.parquet"
    pq.write_table(pa.table({"note_id": ["1"]}), parquet)
    with pytest.raises(InputError, match="patient_id, text"):
        check_inputs([str(parquet)], "parquet", REQUIRED)


def test_unknown_format_and_unreadable_parquet(tmp_path):
    with pytest.raises(InputError, match="unknown input format 'xml'"):
        check_inputs([], "xml", REQUIRED)
    bad = tmp_path / "bad.parquet"
    bad.write_text(json.dumps({"not": "parquet"}))
    with pytest.raises(InputError, match="not a readable Parquet file"):
        check_inputs([str(bad)], "parquet", REQUIRED)


def test_a_directory_yields_only_files_of_the_format_and_lists_the_rest(tmp_path):
    for name in ("b.csv", "a.CSV", "README.txt", ".a.csv.swp", ".hidden.csv", "x.parquet"):
        (tmp_path / name).write_text("x")
    (tmp_path / "old").mkdir()

    selection = select_inputs(str(tmp_path), "csv")

    assert [p.rsplit("/", 1)[1] for p in selection.files] == ["a.CSV", "b.csv"]
    assert {(s["path"].rsplit("/", 1)[1], s["reason"]) for s in selection.skipped} == {
        ("README.txt", "extension"),
        ("x.parquet", "extension"),
        (".a.csv.swp", "hidden"),
        (".hidden.csv", "hidden"),
        ("old", "not_a_file"),
    }


def test_input_glob_chooses_within_a_directory(tmp_path):
    for name in ("notes_1.csv", "notes_2.csv", "members.csv"):
        (tmp_path / name).write_text("x")
    selection = select_inputs(str(tmp_path), "csv", input_glob="notes_*.csv")
    assert [p.rsplit("/", 1)[1] for p in selection.files] == ["notes_1.csv", "notes_2.csv"]
    assert [s["reason"] for s in selection.skipped] == ["input_glob"]
    with pytest.raises(InputError, match=r"matches no jsonl file \(3 other file\(s\) skipped"):
        select_inputs(str(tmp_path), "jsonl")
    with pytest.raises(InputError, match="--input-glob applies to a directory input"):
        select_inputs(str(tmp_path / "notes_1.csv"), "csv", input_glob="*.csv")
