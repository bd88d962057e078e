"""Two runs on the same input, config and key give byte-identical release tables."""

import json

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import run_cli
from transforms.io.readers import ReadOptions, plan_splits


def _files(directory):
    return {p.relative_to(directory): p.read_bytes() for p in sorted(directory.rglob("*.parquet"))}


def test_identical_runs_give_identical_notes_and_spans(tmp_path, run_key):
    outs = []
    for name in ("first", "second"):
        out = tmp_path / name
        args = ["--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out)]
        assert run_cli(*args, "--direct_num_workers=1") == 0
        outs.append(out)
    for table in ("notes", "phi_spans", "quarantine"):
        assert _files(outs[0] / table) == _files(outs[1] / table), table


def test_a_different_key_changes_pseudonyms(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    ids = []
    for key in ("a" * 40, "b" * 40):
        monkeypatch.setenv("DEIDCODE_KEY", key)
        out = tmp_path / key[0]
        assert run_cli("--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out)) == 0
        ids.append(set(pq.read_table(out / "notes").column("patient_id").to_pylist()))
    assert not ids[0] & ids[1]


def test_reading_the_export_in_splits_changes_no_byte(tmp_path, run_key):
    # 27 KB cut into 2 KB splits: a dozen workers' worth of the one file.
    config = tmp_path / "split.yaml"
    config.write_text("input:\n  split_mb: 0.002\n")
    assert len(plan_splits(str(SAMPLE_CSV), "csv", ReadOptions(split_bytes=2097))) > 10
    outs = {}
    for name, extra in (("whole", ()), ("split", ("--config", str(config)))):
        out = tmp_path / name
        args = ["--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out), *extra]
        assert run_cli(*args) == 0
        outs[name] = out
    for table in ("notes", "phi_spans", "quarantine"):
        assert _files(outs["whole"] / table) == _files(outs["split"] / table), table
    manifests = [json.loads((outs[n] / "manifest.json").read_text()) for n in ("whole", "split")]
    assert manifests[0]["inputs"] == manifests[1]["inputs"]
    assert manifests[0]["counts"] == manifests[1]["counts"]
