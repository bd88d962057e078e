"""The records that flow between pipeline steps. Plain dataclasses, picklable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from transforms.core.entities import ClinicalEntity
from transforms.core.spans import Span


@dataclass(frozen=True)
class RawRecord:
    """One input record as read, or the reason it could not be read."""

    source_file: str
    record_number: int
    fields: dict[str, Any] | None
    error: str | None = None  # a quarantine reason code
    detail: str | None = None  # generated text only: never input content
    # The record's own ID where a reader could tell it, though the record is unusable
    # (a FHIR DocumentReference whose attachment is missing), for the quarantine row.
    note_id: str | None = None


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
    # Keyed HMAC of the note text (``keyed_text_digest``): confirms nothing without the key.
    text_digest: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "note_id": self.note_id,
            "reason": self.reason,
            "detail": self.detail,
            "source_file": self.source_file,
            "record_number": self.record_number,
        }


@dataclass(frozen=True)
class ModelFailure:
    """A model detector failed on this note; ``detail`` names the step and exception type."""

    detail: str


# What one model detector found in a note: spans for each text field (the
# note's "text" and any deid_text columns), or the failure that stopped it.
ModelResult = Mapping[str, tuple[Span, ...]] | ModelFailure


# What the clinical entity step found in a note's text, or the failure that stopped it.
EntityResult = tuple[ClinicalEntity, ...] | ModelFailure


@dataclass(frozen=True)
class AnnotatedNote:
    """A note plus what each model detector, and the entity step, run in their own
    steps, found in it. ``entities`` stays None where the entity step did not run."""

    note: Note
    model_results: Mapping[str, ModelResult] = field(default_factory=dict)
    entities: EntityResult | None = None

    def with_result(self, detector: str, result: ModelResult) -> AnnotatedNote:
        return replace(self, model_results={**self.model_results, detector: result})

    def with_entities(self, result: EntityResult) -> AnnotatedNote:
        return replace(self, entities=result)
