"""``hcc score --from-run``: a de-identification run's suggested codes as HCC diagnoses.

Each suggested code of a released note becomes one diagnosis row:

- ``member_id``: the note's pseudonymous ``patient_id``, or the member it maps
  to in the crosswalk (``deidcode hcc crosswalk`` makes one from the plan's
  own ``patient_id,member_id`` list and the run key);
- ``date_of_service``: the note's ``note_date`` as the run released it, so the
  run must have kept it (``output.note_date: keep``); shifted or coarsened
  dates would score the wrong year;
- ``encounter_id``: the note's pseudonymous encounter;
- ``source``: the note type through the source map, else the default source;
  a note type with neither is left as it is and quarantined as an invalid
  source, never guessed.

Candidates under the coder's threshold are not diagnoses. The rows are staged
as a CSV (in the scoring run's own staging, so a bucket when its output is one)
that the job reads like any other diagnosis file; beside it,
``note_diagnoses`` keeps, per row, the note, entity and rank behind it, so a
RAF can be followed to its HCC, code, note and evidence span.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.manifest import finished_run_manifest, read_parquet_file, read_table, table_files
from transforms.coding.suggest import SUGGESTED
from transforms.core.keyed import RunKeys, pseudonymize
from transforms.hcc.inputs import DIAGNOSIS_COLUMNS
from transforms.io import files

NOTE_DIAGNOSES_SCHEMA = pa.schema(
    [
        pa.field("record_number", pa.int64(), nullable=False),  # diagnoses.record_number
        pa.field("member_id", pa.string(), nullable=False),
        pa.field("code", pa.string(), nullable=False),
        pa.field("note_id", pa.string(), nullable=False),
        pa.field("entity_id", pa.string()),  # null for a coder mention
        pa.field("code_rank", pa.int32(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("coder_model", pa.string(), nullable=False),
    ]
)


class FromRunError(ValueError):
    """The run cannot be scored as asked; the message names the run, file or note type."""


@dataclass(frozen=True)
class StagedDiagnoses:
    """The diagnosis rows of a run's suggested codes, and where each came from."""

    run_dir: str
    rows: list[list[str]]  # DIAGNOSIS_COLUMNS, in record_number order
    trace: pa.Table
    source_run_id: str | None
    notes_without_codes: int


def parse_source_map(text: str | None) -> dict[str, str]:
    """``NOTE_TYPE=SOURCE`` pairs joined by commas, or a JSON object file."""
    if not text:
        return {}
    path = Path(text)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise FromRunError(f"source map {path}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise FromRunError(f"source map {path}: expected an object of note type -> source")
        return {str(k): str(v) for k, v in data.items()}
    pairs = {}
    for item in text.split(","):
        note_type, sep, source = item.partition("=")
        if not sep or not note_type.strip() or not source.strip():
            raise FromRunError(f"source map: {item!r} is not NOTE_TYPE=SOURCE")
        pairs[note_type.strip()] = source.strip()
    return pairs


def _read_pairs(path: Path, what: str, key=lambda patient: patient) -> dict[str, str]:
    """``patient_id,member_id`` CSV as {key(patient_id): member_id}; one patient, one member."""
    pairs: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"patient_id", "member_id"} <= set(reader.fieldnames):
                raise FromRunError(f"{what} {path} needs columns patient_id and member_id")
            for number, row in enumerate(reader, start=2):
                patient = (row["patient_id"] or "").strip()
                member = (row["member_id"] or "").strip()
                if not patient or not member:
                    raise FromRunError(f"{what} {path} line {number}: an empty id")
                if pairs.setdefault(key(patient), member) != member:
                    raise FromRunError(
                        f"{what} {path} line {number}: patient_id maps to two members"
                    )
    except OSError as exc:
        raise FromRunError(f"{what} {path}: {exc.strerror}") from None
    return pairs


def read_crosswalk(path: Path) -> dict[str, str]:
    """``patient_id`` (the run's pseudonym) -> ``member_id``, from CSV."""
    return _read_pairs(path, "crosswalk")


def _table_rows(run_dir: str, table: str, columns: list[str]) -> list[dict[str, Any]]:
    rows = read_table(files.join(run_dir, table), columns)
    if rows is None:
        raise FromRunError(f"run {run_dir} has no {table} table; it predates the coding step")
    return rows.to_pylist()


def stage_diagnoses(
    run_dir: str,
    *,
    source_map: Mapping[str, str],
    default_source: str | None,
    crosswalk: Mapping[str, str] | None,
) -> StagedDiagnoses:
    """A finished run's suggested codes as diagnosis rows (local or in a bucket)."""
    manifest = finished_run_manifest(run_dir, FromRunError)
    note_dates = (manifest.get("redaction") or {}).get("note_date")
    if note_dates != "keep":
        raise FromRunError(
            f"run {run_dir} released note dates as {note_dates or 'unknown'}, not as kept: "
            "they are not the dates of service. Score a run made with output.note_date: keep "
            "(inside the protected zone)"
        )
    notes = {
        row["note_id"]: row
        for row in _table_rows(
            run_dir, "notes", ["note_id", "patient_id", "note_date", "note_type", "encounter_id"]
        )
    }
    codes = _table_rows(
        run_dir,
        "codes",
        ["note_id", "code", "rank", "score", "entity_id", "status", "coder_model"],
    )
    suggested = sorted(
        (row for row in codes if row["status"] == SUGGESTED),
        key=lambda row: (row["note_id"], row["rank"]),
    )
    rows: list[list[str]] = []
    trace: list[dict[str, Any]] = []
    for record_number, row in enumerate(suggested, start=1):
        note = notes[row["note_id"]]
        member = crosswalk.get(note["patient_id"], "") if crosswalk else note["patient_id"]
        note_type = note["note_type"] or ""
        source = source_map.get(note_type) or default_source or note_type
        service = note["note_date"].isoformat() if note["note_date"] else ""
        rows.append([member, row["code"], service, note["encounter_id"] or "", source])
        trace.append(
            {
                "record_number": record_number,
                "member_id": member,
                "code": row["code"],
                "note_id": row["note_id"],
                "entity_id": row["entity_id"],
                "code_rank": row["rank"],
                "score": row["score"],
                "coder_model": row["coder_model"],
            }
        )
    coded_notes = {row["note_id"] for row in suggested}
    return StagedDiagnoses(
        run_dir=run_dir,
        rows=rows,
        trace=pa.Table.from_pylist(trace, schema=NOTE_DIAGNOSES_SCHEMA),
        source_run_id=manifest.get("run_id"),
        notes_without_codes=len(set(notes) - coded_notes),
    )


def diagnoses_csv_text(rows: list[list[str]]) -> str:
    """Diagnosis rows as the CSV ``hcc score --diagnoses`` reads (record n = row n)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(DIAGNOSIS_COLUMNS)
    writer.writerows(rows)
    return text.getvalue()


def write_diagnoses_csv(path: str, staged: StagedDiagnoses) -> None:
    files.write_bytes(path, diagnoses_csv_text(staged.rows).encode("utf-8"))


def write_crosswalk(pairs: str, out: str, master_key: bytes) -> int:
    """``patient_id,member_id`` (the hospital's ids) -> the run's pseudonyms; owner-only."""
    keys = RunKeys.derive(master_key)
    rows = _read_pairs(
        Path(pairs), "pairs file", key=lambda patient: pseudonymize(keys.patient_id, patient)
    )
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(out, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "member_id"])
        writer.writerows(sorted(rows.items()))
    return len(rows)


def add_note_evidence(run_staging: str, trace: pa.Table, *, include_ineligible: bool) -> None:
    """Give each hcc row the notes and entities behind its codes (``note_ids``,
    ``entity_ids``; a coder mention has no entity), through the scored diagnoses
    and ``note_diagnoses``."""
    notes: dict[tuple[str, str], set[str]] = {}
    entities: dict[tuple[str, str], set[str]] = {}
    by_record = {row["record_number"]: row for row in trace.to_pylist()}
    diagnoses = read_table(
        files.join(run_staging, "diagnoses"),
        columns=["record_number", "member_id", "code", "eligible"],
    )
    for row in diagnoses.to_pylist() if diagnoses is not None else ():
        if row["eligible"] or include_ineligible:
            source, key = by_record[row["record_number"]], (row["member_id"], row["code"])
            notes.setdefault(key, set()).add(source["note_id"])
            if source["entity_id"] is not None:
                entities.setdefault(key, set()).add(source["entity_id"])
    strings = pa.list_(pa.string())
    for path in table_files(files.join(run_staging, "hcc")):
        table = read_parquet_file(path)
        keys = [
            [(member, code) for code in codes]
            for member, codes in zip(
                table.column("member_id").to_pylist(),
                table.column("codes").to_pylist(),
                strict=True,
            )
        ]
        for column, found in (("note_ids", notes), ("entity_ids", entities)):
            values = [sorted(set().union(*(found.get(k, set()) for k in row))) for row in keys]
            table = table.append_column(
                pa.field(column, strings, nullable=False), pa.array(values, type=strings)
            )
        files.write_file(path, lambda out, t=table: pq.write_table(t, out, compression="zstd"))
