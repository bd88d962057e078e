"""`deidcode check` checks what a run would, prints what it would do, and writes nothing."""

from __future__ import annotations

from pipeline.cli import main
from tests.conftest import REPO_ROOT, SAMPLE_CSV
from tests.pipeline.helpers import write_jsonl


def _check(*args: str) -> int:
    return main(["check", *args])


def test_a_runnable_job_passes_and_nothing_is_written(tmp_path, run_key, capsys):
    output = tmp_path / "deid" / "2026-12-01"
    code = _check("--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(output))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "1 csv file(s)" in out
    assert "50 read: 49 valid, 1 empty_text" in out
    assert "deid_phi_minilm" in out and "sha256 verified" in out
    assert f"{output} (writable)" in out
    assert "(created by the run)" in out
    assert out.rstrip().endswith("check passed: a run with these settings can start")
    assert list(tmp_path.iterdir()) == [], "check wrote something"
    assert "surrogate ledger" not in out  # the default tag policy keeps notes apart


def test_a_surrogate_policy_says_it_redacts_by_patient(run_key, capsys):
    config = REPO_ROOT / "examples" / "research_release.yaml"
    args = ["--input", str(SAMPLE_CSV), "--format", "csv", "--config", str(config)]
    assert _check(*args, "--sample-records", "0") == 0
    assert "one patient at a time, against the surrogate ledger" in capsys.readouterr().out


def test_record_problems_show_in_the_first_records(tmp_path, run_key, capsys):
    export = write_jsonl(
        tmp_path / "notes.jsonl",
        [
            {"note_id": "a", "patient_id": "p", "text": "fine"},
            {"note_id": "b", "text": "no patient"},
            "{not json",
        ],
    )
    assert _check("--input", str(export), "--format", "jsonl", "--sample-records", "10") == 0
    out = capsys.readouterr().out
    assert "3 read: 1 valid, 1 malformed_json, 1 missing_patient_id" in out
    assert "audit database" not in out  # no output named, nothing to say about its default


def test_each_problem_exits_2_with_a_message_naming_it(tmp_path, monkeypatch, capsys):
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("detection:\n  detectors:\n    - name: no_such_detector\n")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    base = ["--input", str(SAMPLE_CSV), "--format", "csv"]

    monkeypatch.delenv("DEIDCODE_KEY", raising=False)
    assert _check(*base) == 2
    assert "no key" in capsys.readouterr().err

    monkeypatch.setenv("DEIDCODE_KEY", "test-key-0123456789abcdef0123456789abcdef")
    assert _check(*base, "--config", str(bad_config)) == 2
    assert "no_such_detector" in capsys.readouterr().err

    assert _check(*base, "--output", str(busy)) == 2
    assert f"output directory {busy} is not empty" in capsys.readouterr().err

    assert _check("--input", str(tmp_path / "nope.csv"), "--format", "csv") == 2
    assert "nope.csv does not exist" in capsys.readouterr().err

    assert _check(*base, "--audit-db", "postgresql+psycopg2://nobody@127.0.0.1:1/x") == 2
    assert "audit database postgresql+psycopg2://nobody@127.0.0.1:1/x cannot be reached" in (
        capsys.readouterr().err
    )


def test_the_audit_database_is_reached_and_its_schema_read_not_changed(
    tmp_path, run_key, postgres_url, capsys
):
    import sqlalchemy as sa

    from pipeline.audit_writer import AuditDatabase

    base = ["--input", str(SAMPLE_CSV), "--format", "csv", "--audit-db", postgres_url]
    assert _check(*base) == 0
    assert "(reachable; the run creates the schema)" in capsys.readouterr().out
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        assert not sa.inspect(connection).get_table_names(), "check created tables"
    engine.dispose()

    database = AuditDatabase(postgres_url)
    database.prepare()
    database.dispose()
    assert _check(*base) == 0
    assert "(schema 0002, current)" in capsys.readouterr().out
