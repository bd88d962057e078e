"""`deidcode run` with its inputs and every output in an S3-compatible object store:
moto's server on 127.0.0.1, reached through Beam's S3 filesystem."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import run_cli
from tests.pipeline.s3 import BUCKET, beam_flags, keys_under, read_object

pytest.importorskip("moto")


@pytest.fixture
def patterns_config(tmp_path) -> Path:
    config = tmp_path / "patterns.yaml"
    config.write_text(
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        "entities: {enabled: false}\ncoding: {enabled: false}\n"
    )
    return config


def test_a_run_reads_from_and_writes_to_s3_and_a_split_rerun_is_byte_identical(
    tmp_path, run_key, s3, s3_endpoint, patterns_config, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # a run must not create a local folder named "s3:"
    s3.put_object(Bucket=BUCKET, Key="exports/night1/notes.csv", Body=SAMPLE_CSV.read_bytes())
    s3.put_object(Bucket=BUCKET, Key="exports/night1/README.txt", Body=b"not an export")
    # The second run reads the export in 2 KB splits (seeking in the S3 object).
    split_config = tmp_path / "split.yaml"
    split_config.write_text(patterns_config.read_text() + "input: {split_mb: 0.002}\n")
    manifests = []
    for name, config in (("first", patterns_config), ("second", split_config)):
        code = run_cli(
            "--input",
            f"s3://{BUCKET}/exports/night1/",
            "--format",
            "csv",
            "--output",
            f"s3://{BUCKET}/runs/{name}",
            "--config",
            str(config),
            "--audit-db",
            f"sqlite:///{tmp_path / 'audit.sqlite'}",
            *beam_flags(s3_endpoint),
        )
        assert code == 0
        published = keys_under(s3, f"runs/{name}/")
        assert f"runs/{name}/_SUCCESS" in published
        assert not any(".tmp-" in key or "staging" in key for key in keys_under(s3, "runs/"))
        manifest = json.loads(read_object(s3, f"runs/{name}/manifest.json"))
        counts = manifest["counts"]
        assert counts["records_read"] == 50
        assert counts["records_read"] == counts["notes_written"] + counts["records_quarantined"]
        assert [s["reason"] for s in manifest["skipped_inputs"]] == ["extension"]
        # Every file the manifest lists is there, with the rows it says.
        for table, entries in manifest["outputs"].items():
            for entry in entries:
                body = read_object(s3, f"runs/{name}/{entry['path']}")
                local = tmp_path / f"{name}-{table}.parquet"
                local.write_bytes(body)
                assert pq.ParquetFile(local).metadata.num_rows == entry["rows"]
        manifests.append(manifest)
    assert not (tmp_path / "s3:").exists()
    # Same files, same sha256; the audit rows carry the run id and timings by design.
    first, second = ({t: f for t, f in m["outputs"].items() if t != "audit"} for m in manifests)
    assert first == second and set(first) >= {"notes", "phi_spans", "quarantine"}


def test_rerunning_over_a_finished_s3_run_needs_overwrite(
    tmp_path, run_key, s3, s3_endpoint, patterns_config, capsys
):
    s3.put_object(Bucket=BUCKET, Key="exports/night2/notes.csv", Body=SAMPLE_CSV.read_bytes())
    args = [
        "--input",
        f"s3://{BUCKET}/exports/night2/notes.csv",
        "--format",
        "csv",
        "--output",
        f"s3://{BUCKET}/runs/night2",
        "--config",
        str(patterns_config),
        "--audit-db",
        f"sqlite:///{tmp_path / 'audit.sqlite'}",
        *beam_flags(s3_endpoint),
    ]
    assert run_cli(*args) == 0
    assert run_cli(*args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_cli(*args, "--overwrite") == 0
    assert "runs/night2/_SUCCESS" in keys_under(s3, "runs/night2/")


def test_an_s3_output_needs_an_audit_database_url(
    tmp_path, run_key, s3, s3_endpoint, patterns_config, capsys
):
    code = run_cli(
        "--input",
        str(SAMPLE_CSV),
        "--format",
        "csv",
        "--output",
        f"s3://{BUCKET}/runs/no-audit",
        "--config",
        str(patterns_config),
        *beam_flags(s3_endpoint),
    )
    assert code == 2
    assert "--audit-db" in capsys.readouterr().err
    assert keys_under(s3, "runs/no-audit") == []


def test_the_protected_quarantine_directory_refuses_a_url(tmp_path, run_key, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("output:\n  quarantine_text_dir: s3://bucket/quarantine\n")
    code = run_cli(
        "--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(tmp_path / "out"),
        "--config", str(config),
    )  # fmt: skip
    assert code == 2
    assert "quarantine_text_dir" in capsys.readouterr().err
