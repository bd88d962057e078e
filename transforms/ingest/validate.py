"""Validate raw records into ``Note``s or ``Quarantined`` records. Pure functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from schemas.config import InputConfig
from transforms.core.records import Note, Quarantined, RawRecord


def _as_id(value: Any) -> str | None:
    """IDs may arrive as numbers (JSON, Parquet); blanks count as missing."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _as_optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_note_date(value: Any, formats: Sequence[str]) -> dt.date | None:
    """Parse a structured note date; raise ValueError if no format fits."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("no configured format matches")


def validate_record(raw: RawRecord, config: InputConfig) -> Note | Quarantined:
    if raw.fields is None:
        return Quarantined(
            raw.source_file,
            raw.record_number,
            raw.note_id,
            raw.error or "unreadable_record",
            raw.detail,
        )
    fields = raw.fields
    columns = config.columns

    def quarantine(note_id: str | None, reason: str, detail: str | None = None) -> Quarantined:
        return Quarantined(raw.source_file, raw.record_number, note_id, reason, detail, fields)

    note_id = _as_id(fields.get(columns.note_id))
    if note_id is not None and not _is_encodable(note_id):
        return quarantine(None, "invalid_utf8", f"column {columns.note_id!r} has lone surrogates")
    if note_id is None:
        return quarantine(None, "missing_note_id", f"column {columns.note_id!r}")
    patient_id = _as_id(fields.get(columns.patient_id))
    if patient_id is not None and not _is_encodable(patient_id):
        return quarantine(
            note_id, "invalid_utf8", f"column {columns.patient_id!r} has lone surrogates"
        )
    if patient_id is None:
        return quarantine(note_id, "missing_patient_id", f"column {columns.patient_id!r}")
    text = fields.get(columns.text)
    if text is None:
        return quarantine(note_id, "empty_text", f"column {columns.text!r} is missing or null")
    if not isinstance(text, str):
        return quarantine(
            note_id, "text_not_string", f"column {columns.text!r} is {type(text).__name__}"
        )
    if not text.strip():
        return quarantine(note_id, "empty_text", f"column {columns.text!r} is blank")
    if not _is_encodable(text):
        # JSON escapes such as "\ud800" decode to lone surrogates, which no
        # tokenizer or Parquet writer accepts.
        return quarantine(note_id, "invalid_utf8", f"column {columns.text!r} has lone surrogates")
    if len(text) > config.max_text_chars:
        return quarantine(
            note_id,
            "text_too_long",
            f"{len(text)} characters; input.max_text_chars is {config.max_text_chars}",
        )
    note_date = None
    if columns.note_date is not None:
        try:
            note_date = parse_note_date(fields.get(columns.note_date), config.note_date_formats)
        except ValueError:
            return quarantine(note_id, "invalid_note_date", f"column {columns.note_date!r}")
    for column, policy in config.column_policies.items():
        value = fields.get(column)
        if policy.type == "deid_text" and isinstance(value, str) and not _is_encodable(value):
            return quarantine(note_id, "invalid_utf8", f"column {column!r} has lone surrogates")
    optional = columns.optional()
    return Note(
        source_file=raw.source_file,
        record_number=raw.record_number,
        note_id=note_id,
        patient_id=patient_id,
        text=text,
        note_date=note_date,
        encounter_id=_as_id(fields.get(optional["encounter_id"]))
        if "encounter_id" in optional
        else None,
        note_type=_as_optional_text(fields.get(optional["note_type"]))
        if "note_type" in optional
        else None,
        author=_as_optional_text(fields.get(optional["author"])) if "author" in optional else None,
        columns={
            c: _as_optional_text(fields.get(c))
            for c, policy in config.column_policies.items()
            if policy.type not in ("drop", "deid_text")
        },
        text_columns={
            c: _as_optional_text(fields.get(c))
            for c, policy in config.column_policies.items()
            if policy.type == "deid_text"
        },
    )


def resolve_duplicates(note_id: str, notes: Sequence[Note]) -> list[Note | Quarantined]:
    """All records sharing a note_id are quarantined: there is no safe way to pick one."""
    if len(notes) == 1:
        return [notes[0]]
    count = len(notes)
    return [
        Quarantined(
            n.source_file,
            n.record_number,
            note_id,
            "duplicate_note_id",
            f"{count} records share this note_id",
            {"note_id": n.note_id, "patient_id": n.patient_id, "text": n.text},
        )
        for n in sorted(notes, key=lambda n: (n.source_file, n.record_number))
    ]
