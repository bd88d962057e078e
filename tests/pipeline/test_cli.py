"""CLI behaviour a data engineer relies on: help, keys, output directories, exit codes."""

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from pipeline.options import beam_options
from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import manifest, patterns_run_command, run_cli, write_jsonl


def _args(out, *extra):
    return ["--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out), *extra]


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for flag in (
        "--input",
        "--format",
        "--output",
        "--config",
        "--key-file",
        "--audit-db",
        "--overwrite",
        "--runner",
        "DEIDCODE_KEY",
        "Exit status",
    ):
        assert flag in text


def test_local_runner_defaults_to_fnapi_and_flags_pass_through():
    options = beam_options(["--direct_num_workers=2"]).get_all_options()
    assert options["runner"] == "FnApiRunner"
    assert options["direct_num_workers"] == 2
    assert beam_options(["--runner=DataflowRunner"]).get_all_options()["runner"] == "DataflowRunner"


def test_no_key_refuses_to_start(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DEIDCODE_KEY", raising=False)
    assert run_cli(*_args(tmp_path / "out")) == 2
    assert "set the environment variable DEIDCODE_KEY" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_short_key_and_key_file_permissions(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEIDCODE_KEY", "short")
    assert run_cli(*_args(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "too short" in err and "short\n" not in err.replace("too short", "")
    key_file = tmp_path / "key"
    key_file.write_text("f" * 64)
    key_file.chmod(0o644)
    assert run_cli(*_args(tmp_path / "out", "--key-file", str(key_file))) == 2
    assert "chmod 600" in capsys.readouterr().err
    key_file.chmod(0o600)
    assert run_cli(*_args(tmp_path / "out", "--key-file", str(key_file))) == 0


def test_non_empty_output_needs_overwrite(tmp_path, run_key, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    assert run_cli(*_args(out)) == 2
    assert "not empty; pass --overwrite" in capsys.readouterr().err
    assert run_cli(*_args(out, "--overwrite")) == 0
    assert not (out / "old.txt").exists()
    assert (out / "_SUCCESS").exists()


def test_invalid_config_fails_before_the_pipeline(tmp_path, run_key, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("output:\n  num_shard: 3\n")
    assert run_cli(*_args(tmp_path / "out", "--config", str(config))) == 2
    assert "key 'output.num_shard'" in capsys.readouterr().err
    config.write_text(
        "detection:\n  detectors:\n    - name: presidio_patterns\n      options: {min_scor: 0.3}\n"
    )
    assert run_cli(*_args(tmp_path / "out", "--config", str(config))) == 2
    assert "presidio_patterns" in capsys.readouterr().err


def test_cli_as_a_user_runs_it(tmp_path):
    """A real subprocess: the console script's exit code and stderr."""
    env = {k: v for k, v in os.environ.items() if k != "DEIDCODE_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", *_args(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("deidcode: error: no key")


def test_a_clean_run_prints_no_warnings(tmp_path):
    """A nightly job's stderr is read by people and alerting: a run that went well
    prints deidcode's own lines only, no warning from the libraries beneath it
    (Beam 2.78 warned once per run about a return annotation on an expand())."""
    notes = [{"note_id": f"n{i}", "patient_id": "p1", "text": "Seen by Dr. Roe."} for i in range(3)]
    command, env = patterns_run_command(tmp_path, notes)
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if " WARNING " in line] == []


@pytest.mark.postgres
def test_audit_rows_go_to_postgres(tmp_path, run_key, postgres_url):
    out = tmp_path / "out"
    assert run_cli(*_args(out, "--audit-db", postgres_url)) == 0
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        runs = connection.execute(sa.text("SELECT run_id, status, records_read FROM deid_runs"))
        run_id, status, read = runs.one()
        rows = connection.execute(sa.text("SELECT count(*) FROM deid_note_audit")).scalar()
    engine.dispose()
    assert (status, read, rows) == ("succeeded", 50, 50)
    assert manifest(out)["run_id"] == run_id
    assert "postgres" in manifest(out)["audit_db"]
    assert not (out / "audit.sqlite").exists() and not (tmp_path / "out.audit.sqlite").exists()


def test_protected_quarantine_keeps_text_owner_only(tmp_path, run_key):
    protected = tmp_path / "protected"
    config = tmp_path / "c.yaml"
    config.write_text(f"output:\n  quarantine_text_dir: {protected}\n")
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"note_id": "a", "patient_id": "p", "text": "ok"},
            {"note_id": "b", "patient_id": "p", "text": 7},
        ],
    )
    out = tmp_path / "out"
    assert (
        run_cli(
            "--input", str(path), "--format", "jsonl", "--output", str(out), "--config", str(config)
        )
        == 0
    )
    files = list(protected.rglob("*.jsonl"))
    assert files and all((f.stat().st_mode & 0o077) == 0 for f in files)
    assert any('"text": 7' in f.read_text() for f in files)
    assert all((d.stat().st_mode & 0o077) == 0 for d in protected.iterdir())


@pytest.mark.parametrize(
    "url, message",
    [
        ("nonsense://", "cannot be used"),
        ("postgresql+psycopg2://someone:s3cret@127.0.0.1:1/test", "cannot be reached"),
    ],
)
def test_unusable_audit_database_stops_the_run_without_leaking_the_password(
    tmp_path, run_key, capsys, url, message
):
    out = tmp_path / "out"
    assert run_cli(*_args(out, "--audit-db", url)) == 2
    err = capsys.readouterr().err
    assert message in err and "s3cret" not in err and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]
