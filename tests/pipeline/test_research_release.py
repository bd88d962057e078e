"""The research-release example config on the bundled sample: surrogates,
date shifting, Safe Harbor generalisation and a policy for every column."""

import csv
import datetime as dt
import os
import re
from collections import defaultdict

import pytest

from tests.conftest import REPO_ROOT, SAMPLE_CSV
from tests.pipeline.helpers import manifest, run_export, table

CONFIG = REPO_ROOT / "examples" / "research_release.yaml"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    # The README's demo key, so the README's before/after example is checked too.
    os.environ["DEIDCODE_KEY"] = "0123456789abcdef0123456789abcdef-demo"
    try:
        out = tmp_path_factory.mktemp("runs") / "research"
        assert run_export(SAMPLE_CSV, out, fmt="csv", config=CONFIG) == 0
        yield out
    finally:
        del os.environ["DEIDCODE_KEY"]


@pytest.fixture(scope="module")
def source():
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["note_id"]: row for row in csv.DictReader(handle)}


def test_columns_follow_their_policies(release, source):
    notes = table(release, "notes")
    assert manifest(release)["counts"]["notes_written"] == len(notes) == 47
    by_patient = defaultdict(list)
    for note in notes:
        original = source[note["note_id"]]
        by_patient[original["patient_id"]].append(note)
        assert note["mrn"] != original["mrn"] and len(note["mrn"]) == 16
        assert note["birth_date"] == original["birth_date"][:4]
        assert note["zip"] == original["zip"][:3]
        assert note["department"] == original["department"]
        assert note["patient_name"] != original["patient_name"]
        assert note["patient_name"].isupper() and ", " in note["patient_name"]
        # The admission date (the note's own day) moves with the note date.
        admitted = dt.datetime.strptime(note["admission_date"], "%m/%d/%Y").date()
        assert admitted == note["note_date"]
        assert "author" not in note
        # The encounter is released only as a keyed pseudonym, like the patient.
        assert note["encounter_id"] != original["encounter_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", note["encounter_id"])
    for notes_of_patient in by_patient.values():
        assert len({n["patient_name"] for n in notes_of_patient}) == 1
        assert len({n["mrn"] for n in notes_of_patient}) == 1


def test_detected_names_get_the_same_surrogate_as_the_name_column(release, source):
    """Where the detectors find a patient's surname, the text carries the same
    surrogate as the patient_name column, in every note of that patient."""
    notes = {n["note_id"]: n for n in table(release, "notes")}
    spans = defaultdict(list)
    for span in table(release, "phi_spans"):
        spans[span["note_id"]].append(span)
    checked = 0
    for note_id, note in notes.items():
        original = source[note_id]
        surname = original["patient_name"].split(",")[0]
        surrogate = note["patient_name"].split(",")[0]
        for span in spans[note_id]:
            found = original["text"][span["start"] : span["end"]]
            if span["field"] == "text" and found.upper() == surname:
                assert surrogate.upper() in note["text_deid"].upper()
                checked += 1
    assert checked >= 10


def test_readme_before_and_after_example_is_what_the_run_writes(release):
    readme = (REPO_ROOT / "README.md").read_text()
    after = readme.split("and after, with the demo key above")[1].split("```text\n")[1]
    after = after.split("```")[0]
    released = next(n for n in table(release, "notes") if n["note_id"] == "N0012")["text_deid"]
    for line in after.splitlines():
        if line and "[...]" not in line:
            assert line in released.splitlines(), line


def test_readme_comment_example_is_what_the_run_writes(release):
    """The README: the patient's surname in a free-text column takes the surrogate
    the patient_name column has."""
    readme = " ".join((REPO_ROOT / "README.md").read_text().split())
    claimed = re.search(r'The row\'s `comment`, "[^"]+", becomes "([^"]+)"', readme)
    assert claimed is not None
    note = next(n for n in table(release, "notes") if n["note_id"] == "N0012")
    assert note["comment"] == claimed.group(1)
    assert note["comment"].split()[0].upper() == note["patient_name"].split(",")[0]
