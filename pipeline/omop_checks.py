"""Checks of a run's OMOP copy, on the written files (never on runner counters).

OMOP ids are keyed 63-bit integers of the notes' ids and pseudonyms; two values
landing on one integer would merge two patients (or notes) in every study on the
copy. That is unlikely (about n^2 / 2^64) but not impossible, so a run checks:
one OMOP NOTE row per released note, one person_id per patient pseudonym and the
reverse, and no note_id or note_nlp_id twice.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from pipeline.lifecycle import RunVerificationError
from pipeline.manifest import read_table
from transforms.io import files


def _read(directory: str, columns: list[str]) -> pa.Table:
    # The staging may be in a bucket: read_table goes through FileSystems.
    table = read_table(directory, columns)
    return table if table is not None else pa.table({c: [] for c in columns})


def verify_omop(staging: str, run_id: str) -> dict[str, int]:
    """The OMOP tables' row counts; RunVerificationError if an id collides."""
    notes = _read(files.join(staging, "notes"), ["note_id", "patient_id"])
    omop_note = _read(files.join(staging, "omop", "note"), ["note_id", "person_id"])
    note_nlp = _read(files.join(staging, "omop", "note_nlp"), ["note_nlp_id"])
    if omop_note.num_rows != notes.num_rows:
        raise RunVerificationError(
            f"run {run_id}: omop/note has {omop_note.num_rows} rows for {notes.num_rows} notes"
        )
    repeated = [k for k, n in Counter(omop_note.column("note_id").to_pylist()).items() if n > 1]
    if repeated:
        raise RunVerificationError(
            f"run {run_id}: {len(repeated)} OMOP note_id value(s) stand for more than one note; "
            "rerun with another key"
        )
    # A pseudonym maps to one integer by construction; fewer integers than
    # pseudonyms means two patients collided.
    if len(set(notes.column("patient_id").to_pylist())) != len(
        set(omop_note.column("person_id").to_pylist())
    ):
        raise RunVerificationError(
            f"run {run_id}: OMOP person_id values do not match the patients one to one; "
            "rerun with another key"
        )
    nlp_ids = note_nlp.column("note_nlp_id").to_pylist()
    if len(set(nlp_ids)) != len(nlp_ids):
        raise RunVerificationError(f"run {run_id}: an OMOP note_nlp_id stands for two entities")
    return {"omop_note": omop_note.num_rows, "omop_note_nlp": note_nlp.num_rows}
