"""`deidcode hcc score` on the bundled sample, as the README shows it."""

import csv
import json

import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from schemas.hcc_tables import HCC_TABLES
from tests.conftest import REPO_ROOT
from transforms.hcc.inputs import ELIGIBILITY_REASONS, HCC_QUARANTINE_REASONS

MEMBERS = REPO_ROOT / "examples" / "hcc_members.csv"
DIAGNOSES = REPO_ROOT / "examples" / "hcc_diagnoses.csv"


def score(out, *extra, members=MEMBERS, diagnoses=DIAGNOSES, year="2026"):
    return main(
        [
            "hcc",
            "score",
            "--members",
            str(members),
            "--diagnoses",
            str(diagnoses),
            "--payment-year",
            year,
            "--output",
            str(out),
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hcc") / "py2026"
    assert score(out) == 0
    return out


def rows(out, table):
    return pq.read_table(out / table).to_pylist()


def test_tables_schemas_and_counts(sample_run):
    for table, schema in HCC_TABLES.items():
        for path in (sample_run / table).iterdir():
            assert pq.read_schema(path).equals(schema), table
    manifest = json.loads((sample_run / "manifest.json").read_text())
    counts = manifest["counts"]
    with MEMBERS.open() as handle:
        assert counts["members_read"] == sum(1 for _ in csv.DictReader(handle))
    with DIAGNOSES.open() as handle:
        assert counts["diagnoses_read"] == sum(1 for _ in csv.DictReader(handle))
    assert counts["members_read"] == counts["members_scored"] + counts["members_quarantined"]
    assert counts["diagnoses_read"] == (
        counts["diagnoses_eligible"]
        + counts["diagnoses_ineligible"]
        + counts["diagnoses_quarantined"]
    )
    assert manifest["models"] == {"V28": 1.0} and manifest["ma_coding_adjustment"] == 0.059
    # The README quotes this run's summary line.
    summary = (
        f"scored {counts['members_scored']} of {counts['members_read']} members; "
        f"{counts['diagnoses_eligible']} of {counts['diagnoses_read']} diagnoses\neligible; "
        f"quarantined {counts['records_quarantined']}"
    )
    assert summary in (REPO_ROOT / "README.md").read_text()
    assert set(manifest["quarantine_by_reason"]) <= set(HCC_QUARANTINE_REASONS)
    assert set(manifest["diagnoses_by_reason"]) <= set(ELIGIBILITY_REASONS)
    assert set(manifest["quarantine_by_reason"]) == {
        "duplicate_member_id",
        "invalid_date_of_service",
        "invalid_icd10",
        "invalid_member",
        "non_billable_icd10",
        "unknown_member",
    }
    assert {"audio_only", "unlinked_chart_review", "outside_collection_year"} <= set(
        manifest["diagnoses_by_reason"]
    )
    assert (sample_run / "_SUCCESS").exists()


def test_every_segment_and_the_worked_example(sample_run):
    scores = {r["member_id"]: r for r in rows(sample_run, "risk_scores")}
    assert {r["segment"] for r in scores.values()} == {
        "CNA", "CND", "CFA", "CFD", "CPA", "CPD", "INS", "NE", "SNPNE",
    }  # fmt: skip
    example = scores["MBR9001"]
    assert round(example["raw"], 3) == 2.813 and round(example["blended"], 3) == 2.481
    assert example["normalized"] == pytest.approx(example["raw"] / 1.067)
    assert example["adjusted"] == pytest.approx(example["normalized"] * 0.941)
    assert example["blend_weight"] == 1.0 and example["payment_year"] == 2026
    hccs = {r["hcc"]: r for r in rows(sample_run, "hcc") if r["member_id"] == "MBR9001"}
    assert hccs["HCC226"]["dropped_by"] == ["HCC221"] and hccs["HCC221"]["codes"] == ["Z941"]
    assert hccs["HCC226"]["label"] == "Heart Failure, Except End-Stage and Acute"
    assert hccs["HCC221"]["coefficient"] == 1.053 and hccs["HCC226"]["coefficient"] == 0.0


def test_ineligible_diagnoses_are_kept_but_not_scored(sample_run, tmp_path):
    diagnoses = rows(sample_run, "diagnoses")
    assert all(d["eligible"] == (d["reason"] == "eligible") for d in diagnoses)
    # Each kept row is its input row, field for field.
    with DIAGNOSES.open() as handle:
        source = {n: r for n, r in enumerate(csv.DictReader(handle), start=1)}
    for d in diagnoses:
        original = source[d["record_number"]]
        assert d["source_file"] == str(DIAGNOSES) and d["member_id"] == original["member_id"]
        assert d["code"] == original["code"].replace(".", "")
        assert d["date_of_service"].isoformat() == original["date_of_service"]
        assert (d["encounter_id"] or "") == original["encounter_id"]
        assert d["source"] == original["source"]
    with_all = tmp_path / "all"
    assert score(with_all, "--include-ineligible") == 0
    eligible_only = {r["member_id"]: r["raw"] for r in rows(sample_run, "risk_scores")}
    everything = {r["member_id"]: r["raw"] for r in rows(with_all, "risk_scores")}
    assert any(everything[m] > eligible_only[m] for m in eligible_only)


def test_blended_payment_year_and_byte_identical_reruns(sample_run, tmp_path):
    again = tmp_path / "again"
    assert score(again) == 0
    for table in HCC_TABLES:
        for path in sorted((sample_run / table).iterdir()):
            assert path.read_bytes() == (again / table / path.name).read_bytes(), path
    blended = tmp_path / "py2025"
    assert score(blended, year="2025") == 0
    by_member: dict[str, dict[str, dict]] = {}
    for row in rows(blended, "risk_scores"):
        by_member.setdefault(row["member_id"], {})[row["model"]] = row
    for models in by_member.values():
        expected = 0.33 * models["V24"]["adjusted"] + 0.67 * models["V28"]["adjusted"]
        assert models["V24"]["blended"] == pytest.approx(expected)


def test_user_errors_name_the_problem(tmp_path, capsys):
    assert score(tmp_path / "x", year="2023") == 2
    assert "payment year 2023 is not supported" in capsys.readouterr().err
    bad = tmp_path / "members.csv"
    bad.write_text("member_id,age\nm1,70\n")
    assert score(tmp_path / "y", members=bad) == 2
    err = capsys.readouterr().err
    assert f"input file {bad} lacks required column(s) sex" in err and "Traceback" not in err


def test_malformed_rows_are_quarantined_with_the_readers_reason(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text("member_id,age,sex\nm1,70,F\nm2,71\n")
    diagnoses = tmp_path / "dx.csv"
    diagnoses.write_text(
        "member_id,code,date_of_service,encounter_id,source\n"
        "m1,I50.9,2025-02-02,E1,video\n"
        "m1,I10,2025-02-02,E2,video,extra\n"
    )
    out = tmp_path / "out"
    assert score(out, members=members, diagnoses=diagnoses) == 0
    quarantine = sorted(
        (r["record_type"], r["reason"], r["detail"]) for r in rows(out, "quarantine")
    )
    assert quarantine == [
        ("diagnosis", "unreadable_record", "malformed_csv_row: line 3: expected 5 fields, found 6"),
        ("member", "unreadable_record", "malformed_csv_row: line 3: expected 3 fields, found 2"),
    ]
    assert [r["member_id"] for r in rows(out, "risk_scores")] == ["m1"]
