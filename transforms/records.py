"""The records that flow between pipeline steps. Plain dataclasses, picklable."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    """One input record as read, or the reason it could not be read."""

    source_file: str
    record_number: int
    fields: dict[str, Any] | None
    error: str | None = None  # a quarantine reason code
    detail: str | None = None  # generated text only: never input content


@dataclass(frozen=True)
class Note:
    """A validated note, ready for PHI detection."""

    source_file: str
    record_number: int
    note_id: str
    patient_id: str
    text: str
    note_date: dt.date | None = None
    encounter_id: str | None = None
    note_type: str | None = None
    author: str | None = None
    # Unmapped columns with a release policy, as read: structured columns, and
    # the free-text columns that go through detection (deid_text).
    columns: dict[str, str | None] = field(default_factory=dict)
    text_columns: dict[str, str | None] = field(default_factory=dict)

    def texts(self) -> dict[str, str]:
        """Every text PHI detection runs on: the note's, then each non-blank text column."""
        extra = {c: v for c, v in self.text_columns.items() if v is not None and v.strip()}
        return {"text": self.text, **extra}


@dataclass(frozen=True)
class Quarantined:
    """A record that will not be released, and why."""

    source_file: str
    record_number: int
    note_id: str | None
    reason: str
    detail: str | None = None
    # Raw fields, carried only to the protected quarantine text directory.
    fields: dict[str, Any] | None = None
    text_sha256: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "note_id": self.note_id,
            "reason": self.reason,
            "detail": self.detail,
            "source_file": self.source_file,
            "record_number": self.record_number,
        }
