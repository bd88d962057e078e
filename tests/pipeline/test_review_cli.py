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
    return root


def review(*args: str) -> int:
    return main(["review", *args])


def load(run_dir, db, export=SAMPLE_CSV) -> int:
    return review("load", str(run_dir), "--input", str(export), "--db", db)


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
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    assert load(runs / "first", db) == 0
    password = tmp_path / "password"
    password.write_text(PASSWORD)
    args = ["user", "add", "cora", "--role", "coder", "--workgroup", "coding"]
    assert review(*args, "--password-file", str(password), "--db", db) == 0
    engine = sa.create_engine(db)
    cora = authenticate(engine, "cora", PASSWORD)
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
    db = f"sqlite:///{tmp_path / 'review.sqlite'}"
    assert load(runs / "first", db) == 0
    password = tmp_path / "password"
    password.write_text(PASSWORD)
    args = ["user", "add", "cora", "--role", "coder", "--workgroup", "coding"]
    assert review(*args, "--password-file", str(password), "--db", db) == 0
    engine = sa.create_engine(db)
    cora = authenticate(engine, "cora", PASSWORD)
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
