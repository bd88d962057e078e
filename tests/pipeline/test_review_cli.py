"""`deidcode review load | user add | export` on real runs of the sample."""

import csv
import json

import pytest
import sqlalchemy as sa

from pipeline.cli import main
from schemas.review_db import items, suggestions
from tests.conftest import SAMPLE_CSV, TEST_KEY
from tests.pipeline.helpers import run_export, table
from transforms.review import queue
from transforms.review.users import authenticate

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of the sample: the same notes, two run ids (a rerun the next night)."""
    root = tmp_path_factory.mktemp("review_runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEIDCODE_KEY", TEST_KEY)
        for name in ("first", "second"):
            assert run_export(SAMPLE_CSV, root / name, fmt="csv") == 0
        # Three coded notes of one patient's one encounter, for items per encounter.
        shared = sorted(coded_notes(root / "first"))[:3]
        with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows, header = list(reader), reader.fieldnames
        patient = next(r["patient_id"] for r in rows if r["note_id"] == shared[0])
        for row in rows:
            if row["note_id"] in shared:
                row["encounter_id"], row["patient_id"] = "E-SHARED", patient
        with (root / "shared.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        assert run_export(root / "shared.csv", root / "shared", fmt="csv") == 0
    return root


def review(*args: str) -> int:
    return main(["review", *args])


def load(run_dir, db, export=SAMPLE_CSV) -> int:
    return review("load", str(run_dir), "--input", str(export), "--db", db)


def queue_with_coder(run_dir, tmp_path):
    """A review database loaded with ``run_dir``, and coder cora added through the CLI."""
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    assert load(run_dir, db) == 0
    password = tmp_path / "password"
    password.write_text(PASSWORD)
    args = ["user", "add", "cora", "--role", "coder", "--workgroup", "coding"]
    assert review(*args, "--password-file", str(password), "--db", db) == 0
    engine = sa.create_engine(db)
    return db, engine, authenticate(engine, "cora", PASSWORD)


def coded_notes(run_dir) -> set[str]:
    return {row["note_id"] for row in table(run_dir, "codes") if row["status"] == "suggested"}


def sample_texts() -> dict[str, str]:
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["note_id"]: row["text"] for row in csv.DictReader(handle)}


def test_load_queues_each_coded_note_with_its_text_once(runs, tmp_path, run_key, capsys):
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    assert load(runs / "first", db) == 0
    assert load(runs / "first", db) == 0  # the same run again adds nothing
    out = capsys.readouterr().out
    coded = {
        row["note_id"] for row in table(runs / "first", "codes") if row["status"] == "suggested"
    }
    assert f"{len(coded)} item(s)" in out and "0 item(s)" in out
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(items)).all()
        evidence = connection.execute(
            sa.select(suggestions.c.item_id, suggestions.c.evidence)
        ).all()
    assert {r.note_id for r in rows} == coded and all(r.status == "queued" for r in rows)
    texts = sample_texts()
    assert all(r.note_text == texts[r.note_id] for r in rows)
    by_item = {r.item_id: r.note_text for r in rows}
    # Evidence offsets point into the text coders read: every span holds words.
    for item_id, spans in evidence:
        for start, end in json.loads(spans):
            assert by_item[item_id][start:end].strip()


def test_a_changed_export_quarantines_the_note_without_its_text(runs, tmp_path, run_key):
    coded = sorted(coded_notes(runs / "first"))
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows, header = list(reader), reader.fieldnames
    for row in rows:
        if row["note_id"] == coded[0]:
            row["text"] = row["text"].replace("a", "e", 1)
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    assert load(runs / "first", db, export=changed) == 0
    with sa.create_engine(db).connect() as connection:
        row = connection.execute(sa.select(items).where(items.c.note_id == coded[0])).one()
    assert (row.status, row.reason, row.note_text) == ("quarantined", "text_mismatch", None)


def test_a_newer_run_supersedes_only_what_nobody_claimed(runs, tmp_path, run_key):
    db, engine, cora = queue_with_coder(runs / "first", tmp_path)
    held = queue.claim_next(engine, cora)
    assert load(runs / "second", db) == 0
    with engine.connect() as connection:
        rows = connection.execute(sa.select(items)).all()
    first_run = {r.run_id for r in rows if r.item_id == held}
    kept = [r for r in rows if r.run_id in first_run and r.status != "superseded"]
    assert [r.item_id for r in kept] == [held]  # the claimed chart stands
    newer = [r for r in rows if r.run_id not in first_run]
    assert len(newer) == len(rows) // 2 and all(r.status == "queued" for r in newer)
    assert {r.note_id for r in kept}.isdisjoint(r.note_id for r in newer)


def test_export_writes_approved_codes_that_hcc_score_reads(runs, tmp_path, run_key):
    db, engine, cora = queue_with_coder(runs / "first", tmp_path)
    accepted = 0
    for _ in range(3):  # accept every suggestion of three charts
        item_id = queue.claim_next(engine, cora)
        for s in queue.open_chart(engine, cora, item_id).suggestions:
            queue.decide(engine, cora, item_id, action="accept", suggestion_id=s.suggestion_id)
            accepted += 1
        queue.submit(engine, cora, item_id)
    out = tmp_path / "export"
    assert (
        review("export", "--db", db, "--output", str(out), "--default-source", "face_to_face") == 0
    )
    with (out / "diagnoses.csv").open(encoding="utf-8", newline="") as handle:
        diagnoses = list(csv.DictReader(handle))
    assert len(diagnoses) == accepted and (out / "diagnoses.csv").stat().st_mode & 0o077 == 0
    members = tmp_path / "members.csv"
    with members.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member_id", "birth_date", "sex"])
        writer.writerows(
            [m, "1950-01-01", "F"] for m in sorted({d["member_id"] for d in diagnoses})
        )
    hcc_out = tmp_path / "hcc"
    code = main(
        [
            "hcc", "score", "--members", str(members), "--diagnoses", str(out / "diagnoses.csv"),
            "--payment-year", "2026", "--output", str(hcc_out),
        ]
    )  # fmt: skip
    assert code == 0
    scored = json.loads((hcc_out / "manifest.json").read_text())["counts"]
    assert scored["diagnoses_read"] == accepted


def test_serve_needs_a_session_key_and_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DEIDCODE_REVIEW_SESSION_KEY", raising=False)
    assert review("serve", "--db", f"sqlite:///{tmp_path / 'review.sqlite'}") == 2
    assert "DEIDCODE_REVIEW_SESSION_KEY" in capsys.readouterr().err


def test_a_run_that_did_not_finish_is_refused_by_name(tmp_path, run_key, capsys):
    (tmp_path / "half").mkdir()
    assert load(tmp_path / "half", f"sqlite:///{tmp_path / 'review.sqlite'}") == 2
    assert "half has no _SUCCESS" in capsys.readouterr().err


def test_items_per_encounter_hold_the_encounters_notes_and_their_evidence(runs, tmp_path, run_key):
    by_note = f"sqlite:///{tmp_path / 'notes.sqlite'}"
    by_encounter = f"sqlite:///{tmp_path / 'encounters.sqlite'}"
    export = runs / "shared.csv"
    assert load(runs / "shared", by_note, export=export) == 0
    args = ["load", str(runs / "shared"), "--input", str(export), "--per", "encounter"]
    assert review(*args, "--db", by_encounter) == 0

    def read(db):
        with sa.create_engine(db).connect() as connection:
            rows = {r.item_id: r for r in connection.execute(sa.select(items))}
            spans = connection.execute(
                sa.select(suggestions.c.item_id, suggestions.c.code, suggestions.c.evidence)
            ).all()
        quoted = {}
        for item_id, code, evidence in spans:
            row = rows[item_id]
            for start, end in json.loads(evidence):
                quoted.setdefault(code, set()).add(row.note_text[start:end])
        return rows, quoted

    notes, quoted_by_note = read(by_note)
    encounters, quoted_by_encounter = read(by_encounter)
    encounter_of = {r["note_id"]: r["encounter_id"] for r in table(runs / "shared", "notes")}
    groups = {encounter_of[r.note_id] or r.note_id for r in notes.values()}
    assert len(encounters) == len(groups) == len(notes) - 2  # three notes, one item
    (shared,) = [r for r in encounters.values() if len(json.loads(r.note_ids)) > 1]
    assert shared.note_id.startswith("encounter:") and len(json.loads(shared.note_ids)) == 3
    texts = sample_texts()
    for note_id in json.loads(shared.note_ids):
        assert f"=== {note_id}" in shared.note_text and texts[note_id] in shared.note_text
    # Every code's evidence quotes the same words, whichever way the notes are grouped.
    assert quoted_by_encounter == quoted_by_note


def test_a_key_that_is_not_the_runs_is_refused_before_anything_loads(
    runs, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DEIDCODE_KEY", "another-key-of-enough-length-0123456789abcdef")
    db = tmp_path / "review.sqlite"
    assert load(runs / "first", f"sqlite:///{db}") == 2
    assert "not the one run" in capsys.readouterr().err
    with sa.create_engine(f"sqlite:///{db}").connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(items)).scalar() == 0
