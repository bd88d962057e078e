"""`deidcode hcc score --from-run`: a run's suggested codes scored, and traced back."""

import csv
import json

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from tests.conftest import REPO_ROOT, SAMPLE_CSV, TEST_KEY
from tests.pipeline.helpers import manifest, run_export, table
from tests.pipeline.s3 import BUCKET, beam_flags, keys_under, read_object, upload_tree

MEMBERS = REPO_ROOT / "examples" / "hcc_members.csv"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEIDCODE_KEY", TEST_KEY)
        return _score(tmp_path_factory.mktemp("from_run"))


def _score(root):
    config = root / "config.yaml"
    config.write_text("output:\n  note_date: keep\n")
    assert run_export(SAMPLE_CSV, root / "run", fmt="csv", config=config) == 0
    # The plan's member for each of the sample's patients, pseudonymised like the run.
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        patients = sorted({row["patient_id"] for row in csv.DictReader(handle)})
    with MEMBERS.open(encoding="utf-8", newline="") as handle:
        members = [row["member_id"] for row in csv.DictReader(handle)]
    pairs = root / "pairs.csv"
    with pairs.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "member_id"])
        writer.writerows(zip(patients, members, strict=False))
    crosswalk = root / "crosswalk.csv"
    assert main(["hcc", "crosswalk", "--pairs", str(pairs), "--out", str(crosswalk)]) == 0
    assert crosswalk.stat().st_mode & 0o077 == 0
    out = root / "hcc"
    args = ["hcc", "score", "--from-run", str(root / "run"), "--crosswalk", str(crosswalk)]
    args += ["--members", str(MEMBERS), "--payment-year", "2024", "--output", str(out)]
    assert (
        main(
            [
                *args,
                "--source-map",
                "discharge_summary=face_to_face",
                "--default-source",
                "face_to_face",
            ]
        )
        == 0
    )
    return root


def rows(path):
    return pq.read_table(path).to_pylist()


def test_a_raf_follows_back_to_its_hcc_code_note_and_span(scored):
    run, out = scored / "run", scored / "hcc"
    hccs = [h for h in rows(out / "hcc") if not h["dropped_by"]]
    assert hccs, "the sample's notes give some member an HCC"
    hcc = hccs[0]
    risk = next(
        r
        for r in rows(out / "risk_scores")
        if r["member_id"] == hcc["member_id"] and r["model"] == hcc["model"]
    )
    assert hcc["hcc"] in json.loads(risk["variables"])  # the RAF counts it
    # HCC -> its code -> the eligible diagnosis -> the note and entity behind it.
    code = hcc["codes"][0]
    diagnosis = next(
        d
        for d in rows(out / "diagnoses")
        if d["member_id"] == hcc["member_id"] and d["code"] == code and d["eligible"]
    )
    trace = next(
        t for t in rows(out / "note_diagnoses") if t["record_number"] == diagnosis["record_number"]
    )
    assert trace["note_id"] in hcc["note_ids"] and trace["entity_id"] in hcc["entity_ids"]
    # -> the run's code row, its evidence span, and the words on the released note.
    suggestion = next(
        c
        for c in table(run, "codes")
        if c["note_id"] == trace["note_id"] and c["code"].replace(".", "") == code
    )
    assert suggestion["entity_id"] == trace["entity_id"] and suggestion["status"] == "suggested"
    note = next(n for n in table(run, "notes") if n["note_id"] == trace["note_id"])
    span = suggestion["evidence"][0]
    assert note["text_deid"][span["start_deid"] : span["end_deid"]] == span["text_deid"]
    assert diagnosis["date_of_service"] == note["note_date"]
    entity = next(e for e in table(run, "entities") if e["entity_id"] == trace["entity_id"])
    assert (entity["start"], entity["end"]) == (span["start"], span["end"])


def test_every_suggested_code_is_one_diagnosis_and_counts_add_up(scored):
    run, out = scored / "run", scored / "hcc"
    suggested = [c for c in table(run, "codes") if c["status"] == "suggested"]
    m = manifest(out)
    assert m["from_run"]["run_id"] == manifest(run)["run_id"]
    assert m["from_run"]["suggested_codes"] == len(suggested) == m["counts"]["diagnoses_read"]
    assert len(rows(out / "note_diagnoses")) == len(suggested)
    counts = m["counts"]
    assert counts["diagnoses_read"] == (
        counts["diagnoses_eligible"]
        + counts["diagnoses_ineligible"]
        + counts["diagnoses_quarantined"]
    )


def test_a_run_with_shifted_dates_is_refused(tmp_path, run_key, capsys):
    run = tmp_path / "run"
    assert run_export(SAMPLE_CSV, run, fmt="csv") == 0  # note_date: date_shift by default
    args = ["hcc", "score", "--from-run", str(run), "--members", str(MEMBERS)]
    assert main([*args, "--payment-year", "2024", "--output", str(tmp_path / "hcc")]) == 2
    assert "released note dates as date_shift" in capsys.readouterr().err
    assert not (tmp_path / "hcc").exists()


def test_from_run_options_need_from_run(tmp_path, capsys):
    args = ["hcc", "score", "--diagnoses", "d.csv", "--members", str(MEMBERS)]
    args += ["--payment-year", "2024", "--output", str(tmp_path / "o"), "--default-source", "video"]
    assert main(args) == 2
    assert "go with --from-run" in capsys.readouterr().err


def test_a_bad_pairs_file_names_its_line(tmp_path, run_key, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("patient_id,member_id\nP1,M1\nP1,M2\n")
    assert main(["hcc", "crosswalk", "--pairs", str(pairs), "--out", str(tmp_path / "x")]) == 2
    assert "line 3: patient_id maps to two members" in capsys.readouterr().err


def test_a_run_in_a_bucket_scores_into_a_bucket_as_it_does_locally(
    scored, s3, s3_endpoint, tmp_path, monkeypatch
):
    monkeypatch.setenv("DEIDCODE_KEY", TEST_KEY)
    monkeypatch.chdir(tmp_path)  # no local folder named "s3:" may appear
    upload_tree(s3, scored / "run", "runs/coded")
    code = main(
        [
            "hcc", "score", "--from-run", f"s3://{BUCKET}/runs/coded",
            "--crosswalk", str(scored / "crosswalk.csv"),
            "--members", str(MEMBERS), "--payment-year", "2024",
            "--output", f"s3://{BUCKET}/hcc/from-run",
            "--source-map", "discharge_summary=face_to_face",
            "--default-source", "face_to_face",
            *beam_flags(s3_endpoint),
        ]
    )  # fmt: skip
    assert code == 0
    published = keys_under(s3, "hcc/from-run/")
    assert "hcc/from-run/_SUCCESS" in published
    assert not any("from_run/" in key or "read_counts" in key for key in published)
    remote = json.loads(read_object(s3, "hcc/from-run/manifest.json"))
    local = manifest(scored / "hcc")
    assert remote["from_run"] == local["from_run"]
    # The same files, rows and bytes; diagnoses and quarantine rows name their source
    # (the run's codes table), which is a bucket here.
    named = ("diagnoses", "quarantine")
    for name, entries in local["outputs"].items():
        remote_entries = remote["outputs"][name]
        if name not in named:
            assert remote_entries == entries, name
            continue
        assert [(e["path"], e["rows"]) for e in remote_entries] == [
            (e["path"], e["rows"]) for e in entries
        ]
        for entry in entries:
            body = tmp_path / "remote.parquet"
            body.write_bytes(read_object(s3, f"hcc/from-run/{entry['path']}"))
            here = pq.read_table(scored / "hcc" / entry["path"]).to_pylist()
            there = pq.read_table(body).to_pylist()
            here_codes, there_codes = f"{scored / 'run'}/codes", f"s3://{BUCKET}/runs/coded/codes"
            assert {r["source_file"] for r in here} <= {here_codes, str(MEMBERS)}
            assert {r["source_file"] for r in there} <= {there_codes, str(MEMBERS)}

            # Rows sort by source_file, so the two orders differ; the rows do not.
            def as_set(rows, codes):
                return sorted(repr({**r, "source_file": r["source_file"] != codes}) for r in rows)

            assert as_set(here, here_codes) == as_set(there, there_codes)
    assert not (tmp_path / "s3:").exists()
