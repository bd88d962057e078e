"""What ``review load`` reads: a finished run's coded notes, and the export's note text."""

from __future__ import annotations

from collections.abc import Iterator

from pipeline.inputs import resolve_inputs
from pipeline.manifest import finished_run_manifest, read_table
from schemas.config import DeidcodeConfig
from transforms.core.records import Note
from transforms.ingest.validate import validate_record
from transforms.io import files
from transforms.io.readers import read_records
from transforms.review.loader import RunCodes


class RunReadError(ValueError):
    """The run cannot be loaded; the message names the run and what is missing."""


def read_run_codes(run_dir: str) -> RunCodes:
    manifest = finished_run_manifest(run_dir, RunReadError)
    tables = {}
    for name, columns in (
        ("codes", ["note_id", "code", "description", "rank", "score", "status", "evidence"]),
        ("notes", ["note_id", "patient_id", "encounter_id", "note_type", "note_date"]),
        ("audit", ["note_id", "outcome", "text_hmac"]),
    ):
        table = read_table(files.join(run_dir, name), columns)
        if table is None:
            raise RunReadError(f"run {run_dir} has no {name} table (a run without coding?)")
        tables[name] = table.to_pylist()
    codes: dict[str, list[dict]] = {}
    for row in sorted(tables["codes"], key=lambda r: (r["note_id"], r["rank"])):
        if row["status"] == "suggested":
            codes.setdefault(row["note_id"], []).append(row)
    return RunCodes(
        run_id=manifest["run_id"],
        key_fingerprint=manifest.get("key_fingerprint"),
        codes=codes,
        notes={row["note_id"]: row for row in tables["notes"]},
        digests={
            row["note_id"]: row["text_hmac"]
            for row in tables["audit"]
            if row["note_id"] and row["outcome"] == "released"
        },
    )


def export_texts(location: str, fmt: str, config: DeidcodeConfig) -> Iterator[tuple[str, str]]:
    """(note_id, text) of every valid note in the export, read and validated as the run
    read it (the same column map and checks), so its text digests the same."""
    inputs = resolve_inputs(location, fmt, config)
    for path in inputs.files:
        for raw in read_records(path, fmt, inputs.options):
            note = validate_record(raw, config.input)
            if isinstance(note, Note):
                yield note.note_id, note.text
