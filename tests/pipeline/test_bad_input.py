"""Each bad-input case either quarantines the record or stops before the run starts."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import manifest, run_cli, run_export, table, write_jsonl


def _run(tmp_path, path, fmt):
    out = tmp_path / "out"
    assert run_export(path, out, fmt=fmt) == 0
    reasons = {(q["note_id"], q["reason"]) for q in table(out, "quarantine")}
    return out, reasons


def test_bad_csv_records_are_quarantined(tmp_path, run_key):
    path = tmp_path / "export.csv"
    path.write_bytes(
        b"note_id,patient_id,text\n"
        b"ok1,p1,Seen today.\n"
        b"bad,p1,too,many,fields\n"
        b"utf,p1,caf\xe9 au lait\n"
        b"empty,p1,\n"
        b",p1,no id\n"
        b"dup,p1,first\n"
        b"dup,p2,second\n"
        b"ok2,p2,Seen again.\n"
    )
    out, reasons = _run(tmp_path, path, "csv")
    assert reasons == {
        (None, "malformed_csv_row"),
        (None, "invalid_utf8"),
        ("empty", "empty_text"),
        (None, "missing_note_id"),
        ("dup", "duplicate_note_id"),
    }
    assert len(table(out, "quarantine")) == 6
    assert {n["note_id"] for n in table(out, "notes")} == {"ok1", "ok2"}
    counts = manifest(out)["counts"]
    assert counts["records_read"] == 8 == counts["notes_written"] + counts["records_quarantined"]


def test_bad_jsonl_records_are_quarantined(tmp_path, run_key):
    path = write_jsonl(
        tmp_path / "export.jsonl",
        [
            {"note_id": "ok", "patient_id": "p", "text": "fine"},
            {"note_id": "num", "patient_id": "p", "text": 12345},
            {"note_id": "null", "patient_id": "p", "text": None},
            {"note_id": "nopt", "text": "x"},
            "{broken json",
            {"note_id": "big", "patient_id": "p", "text": "a " * 2_600_000},  # a 5 MB note
        ],
    )
    out, reasons = _run(tmp_path, path, "jsonl")
    assert reasons == {
        ("num", "text_not_string"),
        ("null", "empty_text"),
        ("nopt", "missing_patient_id"),
        (None, "malformed_json"),
        ("big", "text_too_long"),
    }
    assert [n["note_id"] for n in table(out, "notes")] == ["ok"]


def test_parquet_input(tmp_path, run_key):
    path = tmp_path / "export.parquet"
    pq.write_table(
        pa.table(
            {"note_id": ["a", "b"], "patient_id": ["p", "p"], "text": ["Dr. Roe saw pt.", ""]}
        ),
        path,
    )
    out, reasons = _run(tmp_path, path, "parquet")
    assert reasons == {("b", "empty_text")}
    assert table(out, "notes")[0]["text_deid"] == "Dr. [NAME] saw pt."


def test_inputs_across_files_and_duplicates_across_files(tmp_path, run_key):
    write_jsonl(tmp_path / "a.jsonl", [{"note_id": "x", "patient_id": "p", "text": "one"}])
    write_jsonl(
        tmp_path / "b.jsonl",
        [
            {"note_id": "x", "patient_id": "p", "text": "two"},
            {"note_id": "y", "patient_id": "p", "text": "three"},
        ],
    )
    out, reasons = _run(tmp_path, tmp_path / "*.jsonl", "jsonl")
    assert reasons == {("x", "duplicate_note_id")}
    assert manifest(out)["counts"]["records_read"] == 3


def test_a_directory_input_reads_its_exports_and_lists_what_it_skipped(tmp_path, run_key):
    exports = tmp_path / "exports"
    exports.mkdir()
    write_jsonl(exports / "a.jsonl", [{"note_id": "x", "patient_id": "p", "text": "one"}])
    (exports / "README.txt").write_text("Exports land here nightly.\n")  # not an export
    out = tmp_path / "out"
    assert run_export(exports, out, fmt="jsonl") == 0
    assert manifest(out)["counts"]["records_read"] == 1
    assert manifest(out)["skipped_inputs"] == [
        {"path": str(exports / "README.txt"), "reason": "extension"}
    ]


@pytest.mark.parametrize(
    "setup, fmt, message",
    [
        (lambda d: d / "missing.csv", "csv", "missing.csv does not exist"),
        (
            lambda d: (d / "a.csv").write_text("note_id,text\n1,x\n") and d / "a.csv",
            "csv",
            "lacks required column(s) patient_id",
        ),
    ],
)
def test_unusable_inputs_stop_before_the_run(tmp_path, run_key, capsys, setup, fmt, message):
    path = setup(tmp_path)
    out = tmp_path / "out"
    assert run_export(path, out, fmt=fmt) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_unknown_format_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_cli("--input", "x", "--format", "xml", "--output", str(tmp_path / "o"))
    assert exit_info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_a_column_policy_for_a_missing_column_stops_the_run(tmp_path, run_key, capsys):
    export = tmp_path / "notes.csv"
    export.write_text("note_id,patient_id,text\nn1,p1,Seen today.\n")
    config = tmp_path / "policies.yaml"
    config.write_text("input:\n  column_policies:\n    department: keep\n")
    out = tmp_path / "out"
    assert run_export(export, out, fmt="csv", config=config) == 2
    err = capsys.readouterr().err
    assert f"input file {export} lacks required column(s) department" in err
    assert "optional: true" in err and not out.exists()
    config.write_text("input:\n  column_policies:\n    department: {type: keep, optional: true}\n")
    assert run_export(export, out, fmt="csv", config=config) == 0


def test_an_empty_export_is_not_a_success(tmp_path, run_key, capsys):
    export = tmp_path / "notes.csv"
    export.write_text("note_id,patient_id,text\n")  # header only
    out = tmp_path / "out"
    assert run_export(export, out, fmt="csv") == 3
    assert "read 0 record(s), fewer than --min-records 1" in capsys.readouterr().err
    assert (out / "manifest.json").exists() and not (out / "_SUCCESS").exists()
    assert manifest(out)["threshold_failure"] == "too_few_records"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'out.audit.sqlite'}")
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT status, error FROM deid_runs")).one()
    engine.dispose()
    assert tuple(row) == ("failed", "too_few_records")


def test_a_quarantine_rate_above_the_limit_fails_with_the_tables_kept(tmp_path, run_key, capsys):
    out = tmp_path / "out"
    # The sample quarantines 3 of 50 records (6%).
    assert run_export(SAMPLE_CSV, out, "--max-quarantine-rate", "0.05", fmt="csv") == 3
    assert "quarantined 3 of 50 records (6.0%)" in capsys.readouterr().err
    assert not (out / "_SUCCESS").exists() and len(table(out, "quarantine")) == 3
    assert (
        run_export(SAMPLE_CSV, out, "--max-quarantine-rate", "0.1", "--overwrite", fmt="csv") == 0
    )
    assert (out / "_SUCCESS").exists()
