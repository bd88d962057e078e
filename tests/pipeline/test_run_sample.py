"""`deidcode run` on the bundled sample, as the README's first command runs it."""

import hashlib
import os

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from schemas.tables import AUDIT_SCHEMA, PHI_SPANS_SCHEMA, QUARANTINE_SCHEMA, notes_schema
from tests.conftest import REPO_ROOT, SAMPLE_CSV
from tests.pipeline.helpers import manifest, run_cli, table


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    os.environ["DEIDCODE_KEY"] = "sample-key-0123456789abcdef0123456789"
    try:
        out = tmp_path_factory.mktemp("runs") / "sample"
        assert run_cli("--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out)) == 0
        yield out
    finally:
        del os.environ["DEIDCODE_KEY"]


def test_every_table_is_written_with_its_schema(sample_run):
    expected = {
        "notes": notes_schema(),
        "phi_spans": PHI_SPANS_SCHEMA,
        "quarantine": QUARANTINE_SCHEMA,
        "audit": AUDIT_SCHEMA,
    }
    for name, schema in expected.items():
        assert pq.read_schema(next((sample_run / name).iterdir())).equals(schema), name
    assert (sample_run / "_SUCCESS").exists()
    assert not [p for p in sample_run.parent.iterdir() if ".staging-" in p.name]


def test_manifest_counts_add_up(sample_run):
    counts = manifest(sample_run)["counts"]
    assert counts["records_read"] == 50
    assert counts["records_read"] == counts["notes_written"] + counts["records_quarantined"]
    assert counts["notes_written"] == len(table(sample_run, "notes"))
    assert manifest(sample_run)["quarantine_by_reason"] == {"duplicate_note_id": 2, "empty_text": 1}
    assert len(table(sample_run, "audit")) == 50


def test_manifest_records_provenance(sample_run):
    m = manifest(sample_run)
    assert m["inputs"][0]["path"] == str(SAMPLE_CSV)
    # Keyed: the file's plain sha256 would let anyone holding the export confirm it was read.
    assert len(m["inputs"][0]["hmac_sha256"]) == 64 and "sha256" not in m["inputs"][0]
    assert m["inputs"][0]["hmac_sha256"] != hashlib.sha256(SAMPLE_CSV.read_bytes()).hexdigest()
    assert m["key_fingerprint"].startswith("sha256:")
    assert [d["name"] for d in m["detectors"]] == ["presidio_patterns", "onnx_ner"]
    assert [f["name"] for f in m["span_filters"]] == ["clinical_values", "model_shape_vocabulary"]
    model = m["models"][0]
    assert (model["name"], model["variant"], model["provider"]) == (
        "deid_phi_minilm",
        "int8",
        "CPUExecutionProvider",
    )
    assert {"deidcode", "apache-beam", "pyarrow"} <= set(m["versions"])


def test_spans_point_into_the_original_text(sample_run):
    import csv

    originals = {r["note_id"]: r["text"] for r in csv.DictReader(SAMPLE_CSV.open())}
    spans = table(sample_run, "phi_spans")
    assert spans
    for span in spans:
        surface = originals[span["note_id"]][span["start"] : span["end"]]
        assert surface.strip() == surface and surface


def test_patient_ids_are_pseudonyms(sample_run):
    notes = table(sample_run, "notes")
    assert not any(n["patient_id"].startswith("P00") for n in notes)
    assert len({n["patient_id"] for n in notes}) == 12


def test_audit_database_matches_the_audit_table(sample_run):
    engine = sa.create_engine(
        f"sqlite:///{sample_run.parent / (sample_run.name + '.audit.sqlite')}"
    )
    with engine.connect() as connection:
        run = connection.execute(sa.text("SELECT * FROM deid_runs")).mappings().one()
        rows = connection.execute(sa.text("SELECT count(*) FROM deid_note_audit")).scalar()
    engine.dispose()
    assert run["status"] == "succeeded"
    assert run["records_read"] == 50 and rows == 50


def test_example_config_keeps_the_department_column(tmp_path, run_key):
    out = tmp_path / "out"
    code = run_cli(
        "--input",
        str(SAMPLE_CSV),
        "--format",
        "csv",
        "--output",
        str(out),
        "--config",
        str(REPO_ROOT / "examples" / "config.yaml"),
    )
    assert code == 0
    notes = table(out, "notes")
    assert {n["department"] for n in notes} <= {"cardiology", "medicine", "icu", "radiology"}
    assert "author" not in notes[0]
    assert any("[CLINICIAN]" in n["text_deid"] for n in notes)
    assert len(list((out / "notes").iterdir())) == 2
