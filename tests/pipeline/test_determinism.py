"""Two runs on the same input, config and key give byte-identical release tables."""

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import run_cli


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
