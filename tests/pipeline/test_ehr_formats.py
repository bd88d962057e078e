"""`deidcode run` on EHR exports: FHIR Bulk Data, HL7 v2 feeds, OMOP NOTE tables and
queries, and the OMOP copy of a run (output.omop)."""

from __future__ import annotations

import base64
import csv
import json
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from schemas.tables import OMOP_NOTE_NLP_SCHEMA, OMOP_NOTE_SCHEMA
from tests.conftest import REPO_ROOT, SAMPLE_CSV, TEST_KEY
from tests.pipeline.helpers import manifest, run_export, table
from transforms.core.keyed import RunKeys, keyed_int

EHR = REPO_ROOT / "examples" / "ehr"
FHIR_EXPORT = EHR / "fhir"
HL7_FEEDS = EHR / "hl7"
OMOP_TABLE = EHR / "omop" / "note.csv"


@pytest.fixture(scope="module")
def patterns_only(tmp_path_factory) -> Path:
    config = tmp_path_factory.mktemp("config") / "patterns.yaml"
    config.write_text(
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        "entities: {enabled: false}\ncoding: {enabled: false}\n"
    )
    return config


def released(out: Path) -> dict[str, str]:
    return {row["note_id"]: row["text_deid"] for row in table(out, "notes")}


def assert_balanced(out: Path) -> dict:
    counts = manifest(out)["counts"]
    assert counts["records_read"] == counts["notes_written"] + counts["records_quarantined"]
    assert (out / "_SUCCESS").exists()
    return counts


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory, patterns_only) -> Path:
    out = tmp_path_factory.mktemp("csv") / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEIDCODE_KEY", TEST_KEY)
        assert run_export(SAMPLE_CSV, out, fmt="csv", config=patterns_only) == 0
    return out


def plain_text_documents() -> set[str]:
    """The sample export's documents whose text is plain (not an HTML or RTF rendition)."""
    ids = set()
    for line in (FHIR_EXPORT / "DocumentReference.ndjson").read_text().splitlines():
        document = json.loads(line)
        content_type = document["content"][0]["attachment"].get("contentType", "")
        if content_type.startswith("text/plain"):
            ids.add(document["id"])
    return ids


def test_a_fhir_export_releases_what_the_csv_export_releases(
    tmp_path, run_key, patterns_only, csv_run
):
    out = tmp_path / "run"
    assert run_export(FHIR_EXPORT, out, fmt="fhir-ndjson", config=patterns_only) == 0
    counts = assert_balanced(out)
    assert counts["records_read"] == 50
    reasons = {(q["note_id"], q["reason"]) for q in table(out, "quarantine")}
    assert ("N0049", "no_text_attachment") in reasons
    assert ("N0006", "unresolvable_attachment") in reasons
    # Same text, same key: the same redacted note, whichever format carried it.
    from_fhir, from_csv = released(out), released(csv_run)
    same = [n for n in from_fhir if n in plain_text_documents() and n in from_csv]
    assert len(same) >= 30
    assert all(from_fhir[n] == from_csv[n] for n in same)
    # The patient pseudonym is the same too: FHIR's Patient/P0001 is the CSV's P0001.
    by_note = {r["note_id"]: r["patient_id"] for r in table(out, "notes")}
    csv_patients = {r["note_id"]: r["patient_id"] for r in table(csv_run, "notes")}
    assert all(by_note[n] == csv_patients[n] for n in same)
    skipped = {Path(s["path"]).name for s in manifest(out)["skipped_inputs"]}
    assert skipped == {"Condition.ndjson", "Patient.ndjson"}
    roles = [i.get("role") for i in manifest(out)["inputs"]]
    assert roles.count("fhir_binary") == 1  # the Binary file is digested as an input too


def test_html_and_rtf_documents_are_released_as_text(tmp_path, run_key, patterns_only):
    out = tmp_path / "run"
    assert run_export(FHIR_EXPORT, out, fmt="fhir-ndjson", config=patterns_only) == 0
    notes = released(out)
    rendered = [n for n in notes if n not in plain_text_documents()]
    assert rendered
    for note_id in rendered:
        assert "<" not in notes[note_id] and "\\rtf" not in notes[note_id]


def test_hl7_feeds_release_what_the_csv_export_releases(tmp_path, run_key, patterns_only, csv_run):
    out = tmp_path / "run"
    assert run_export(HL7_FEEDS, out, fmt="hl7v2", config=patterns_only) == 0
    counts = assert_balanced(out)
    assert counts["records_read"] == 51  # 50 notes and one admission message
    reasons = [q["reason"] for q in table(out, "quarantine")]
    assert "unsupported_message_type" in reasons
    from_hl7, from_csv = released(out), released(csv_run)
    same = [n for n in from_hl7 if n in from_csv]
    assert len(same) >= 45
    assert all(from_hl7[n] == from_csv[n] for n in same)


def test_an_omop_note_table_releases_what_the_csv_export_releases(
    tmp_path, run_key, patterns_only, csv_run
):
    out = tmp_path / "run"
    assert run_export(OMOP_TABLE, out, fmt="omop-note", config=patterns_only) == 0
    assert_balanced(out)
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        sample_ids = [row["note_id"] for row in csv.DictReader(handle)]
    # The generator numbers the NOTE rows 1001, 1002, ... in the sample's order.
    as_csv_id = {str(1001 + i): note_id for i, note_id in enumerate(sample_ids)}
    from_omop, from_csv = released(out), released(csv_run)
    same = [n for n in from_omop if as_csv_id[n] in from_csv]
    assert len(same) >= 45
    # The sample repeats one note_id with two texts; the CSV run quarantines both.
    assert all(from_omop[n] == from_csv[as_csv_id[n]] for n in same)


def test_an_omop_note_table_and_the_same_table_queried_from_postgresql_agree(
    tmp_path, run_key, patterns_only, postgres_url
):
    from_csv = tmp_path / "csv"
    assert run_export(OMOP_TABLE, from_csv, fmt="omop-note", config=patterns_only) == 0
    assert_balanced(from_csv)

    rows = pa_csv.read_csv(OMOP_TABLE).to_pylist()
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE note (note_id BIGINT PRIMARY KEY, person_id BIGINT, "
                "note_date DATE, note_text TEXT, note_class_concept_id INTEGER, "
                "visit_occurrence_id BIGINT)"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO note VALUES (:note_id, :person_id, :note_date, :note_text, "
                ":note_class_concept_id, :visit_occurrence_id)"
            ),
            [{**r, "note_text": r["note_text"] or ""} for r in rows],
        )
    engine.dispose()
    from_db = tmp_path / "db"
    code = run_export(
        postgres_url,
        from_db,
        "--query",
        "SELECT * FROM note",
        "--partitions",
        "3",
        fmt="omop-note",
        config=patterns_only,
    )
    assert code == 0
    assert_balanced(from_db)
    assert released(from_db) == released(from_csv)
    (described,) = manifest(from_db)["inputs"]
    assert described["partitions"] == 3 and len(described["query_sha256"]) == 64
    sources = {r["source_file"] for r in table(from_db, "audit")}
    assert len(sources) == 3 and all("partition=" in s for s in sources)


def test_input_columns_do_not_apply_to_formats_that_map_their_own(tmp_path, run_key, capsys):
    config = tmp_path / "columns.yaml"
    config.write_text("input:\n  columns: {text: body}\n")
    code = run_export(FHIR_EXPORT, tmp_path / "run", fmt="fhir-ndjson", config=config)
    assert code == 2
    assert "input.columns" in capsys.readouterr().err
    assert not (tmp_path / "run" / "_SUCCESS").exists()


@pytest.fixture(scope="module")
def omop_config(tmp_path_factory) -> Path:
    config = tmp_path_factory.mktemp("omop") / "omop.yaml"
    config.write_text(
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        "coding: {enabled: false}\n"
        "input:\n  column_policies:\n    note_title: deid_text\n    language_concept_id: keep\n"
        "output:\n  omop: {enabled: true, nlp_date: 2026-11-30}\n"
    )
    return config


def test_output_omop_writes_note_and_note_nlp_from_the_release(tmp_path, run_key, omop_config):
    out = tmp_path / "run"
    assert run_export(OMOP_TABLE, out, fmt="omop-note", config=omop_config) == 0
    counts = assert_balanced(out)
    assert pq.read_schema(next((out / "omop" / "note").glob("*.parquet"))) == OMOP_NOTE_SCHEMA
    nlp_file = next((out / "omop" / "note_nlp").glob("*.parquet"))
    assert pq.read_schema(nlp_file) == OMOP_NOTE_NLP_SCHEMA
    notes = table(out, "notes")
    omop_notes = table(out, "omop/note")
    assert counts["omop_note"] == len(omop_notes) == len(notes)
    key = RunKeys.derive(TEST_KEY.encode()).omop_id
    by_id = {keyed_int(key, "note", n["note_id"]): n for n in notes}
    for row in omop_notes:
        note = by_id[row["note_id"]]
        assert row["note_text"] == note["text_deid"]
        assert row["person_id"] == keyed_int(key, "person", note["patient_id"])
        assert row["language_concept_id"] == 4180186
    nlp = table(out, "omop/note_nlp")
    assert counts["omop_note_nlp"] == len(nlp) > 0
    texts = {row["note_id"]: row["note_text"] for row in omop_notes}
    for row in nlp:
        start = int(row["offset"])
        assert (
            texts[row["note_id"]][start : start + len(row["lexical_variant"])]
            == (row["lexical_variant"])
        )
        assert row["term_exists"] in ("Y", "N")
    assert any(row["term_exists"] == "N" for row in nlp)  # the sample has negated findings
    published = manifest(out)["outputs"]
    assert {"omop/note", "omop/note_nlp"} <= set(published)


def test_the_omop_copy_is_byte_identical_across_runs(tmp_path, run_key, omop_config):
    digests = []
    for name in ("first", "second"):
        out = tmp_path / name
        assert run_export(OMOP_TABLE, out, fmt="omop-note", config=omop_config) == 0
        outputs = manifest(out)["outputs"]
        digests.append(
            {t: [f["sha256"] for f in outputs[t]] for t in ("omop/note", "omop/note_nlp")}
        )
    assert digests[0] == digests[1]


def test_output_omop_refuses_dropped_note_dates(tmp_path, run_key, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("output:\n  omop: true\n  note_date: drop\n")
    assert run_export(OMOP_TABLE, tmp_path / "run", fmt="omop-note", config=config) == 2
    assert "note_date" in capsys.readouterr().err


def write_hcc_pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The same members and diagnoses as CSV files and as a FHIR export."""
    members = [("M1", "1948-05-01", "F"), ("M2", "1955-10-20", "M"), ("M3", "1940-01-15", "F")]
    diagnoses = [
        ("M1", "E11.22", "2025-03-04", "V1", "face_to_face"),
        ("M1", "N18.4", "2025-03-04", "V1", "face_to_face"),
        ("M2", "I50.22", "2025-06-10", "V2", "video"),
        ("M2", "J44.1", "2025-07-01", "V3", "audio_only"),
        ("M3", "F20.9", "2025-02-02", "V4", "face_to_face"),
    ]
    members_csv, diagnoses_csv = tmp_path / "members.csv", tmp_path / "diagnoses.csv"
    with members_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member_id", "birth_date", "sex"])
        writer.writerows(members)
    with diagnoses_csv.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member_id", "code", "date_of_service", "encounter_id", "source"])
        writer.writerows(diagnoses)
    export = tmp_path / "fhir"
    export.mkdir()
    gender = {"F": "female", "M": "male"}
    kinds = {"face_to_face": ("AMB", None), "video": ("VR", None), "audio_only": ("VR", "audio")}
    resources = {
        "Patient": [
            {"resourceType": "Patient", "id": m, "birthDate": b, "gender": gender[s]}
            for m, b, s in members
        ],
        "Encounter": [
            {
                "resourceType": "Encounter",
                "id": e,
                "status": "finished",
                "class": {"code": kinds[src][0]},
                "period": {"start": d},
                **({"type": [{"text": kinds[src][1]}]} if kinds[src][1] else {}),
            }
            for _, _, d, e, src in diagnoses
        ],
        "Condition": [
            {
                "resourceType": "Condition",
                "id": f"c{i}",
                "subject": {"reference": f"Patient/{m}"},
                "encounter": {"reference": f"Encounter/{e}"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": c}]},
            }
            for i, (m, c, _, e, _) in enumerate(diagnoses)
        ],
    }
    for kind, items in resources.items():
        (export / f"{kind}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in items))
    return members_csv, diagnoses_csv, export


def test_hcc_scores_from_a_fhir_export_equal_the_csv_scores(tmp_path):
    from pipeline.cli import main

    members_csv, diagnoses_csv, export = write_hcc_pair(tmp_path)
    outputs = {}
    for name, fmt, members, diagnoses in (
        ("csv", "csv", members_csv, diagnoses_csv),
        ("fhir", "fhir-ndjson", export, export),
    ):
        out = tmp_path / f"scored_{name}"
        args = ["hcc", "score", "--members", str(members), "--diagnoses", str(diagnoses)]
        args += ["--payment-year", "2026", "--output", str(out), "--format", fmt]
        assert main(args) == 0
        outputs[name] = sorted(
            (r["member_id"], r["model"], r["raw"], r["blended"]) for r in table(out, "risk_scores")
        )
    assert outputs["fhir"] == outputs["csv"]
    assert len({row[0] for row in outputs["csv"]}) == 3


def test_fhir_documents_attach_base64_text_only(tmp_path):
    """The sample export holds base64 data; a reader of it needs no network."""
    line = (FHIR_EXPORT / "DocumentReference.ndjson").read_text().splitlines()[0]
    data = json.loads(line)["content"][0]["attachment"]["data"]
    assert base64.b64decode(data).decode("utf-8")
