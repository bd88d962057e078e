"""De-identify one note, as plain functions: detect, redact, release columns, build rows.

Any failure quarantines the note (fail closed); nothing here touches Beam.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from transforms.core.errors import NoteFailure
from transforms.core.keyed import (
    RunKeys,
    date_shift_days,
    keyed_text_digest,
    patient_key,
    pseudonymize,
)
from transforms.core.records import EntityResult, ModelFailure, ModelResult, Note, Quarantined
from transforms.core.spans import Span
from transforms.deid.coding import code_rows
from transforms.deid.components import DeidComponents, NoteSettings
from transforms.deid.rows import release_note_date, released_audit_row, span_rows
from transforms.detection.run import detect_phi
from transforms.entities.projection import entity_rows
from transforms.redaction.columns import ColumnRelease, ColumnValueError
from transforms.redaction.engine import RedactionResult, redact
from transforms.redaction.engine import words_to_reserve as redaction_words
from transforms.redaction.operator import RedactionContext
from transforms.redaction.policy import RedactionPolicy
from transforms.redaction.surrogates import SurrogateBook


@dataclass(frozen=True)
class DeidOutcome:
    note_row: dict[str, Any] | None
    span_rows: list[dict[str, Any]]
    audit_row: dict[str, Any] | None
    quarantined: Quarantined | None
    entity_rows: list[dict[str, Any]] = field(default_factory=list)
    code_rows: list[dict[str, Any]] = field(default_factory=list)


def patient_date_offset(keys: RunKeys, patient_id: str, settings: NoteSettings) -> int:
    return date_shift_days(
        keys.date_shift,
        patient_id,
        min_days=settings.date_shift_min_days,
        max_days=settings.date_shift_max_days,
    )


def redaction_context(
    note: Note, keys: RunKeys, *, shift_days: int, surrogate_book: SurrogateBook | None = None
) -> RedactionContext:
    """What the operators may know of this note; ``shift_days`` is the patient's offset."""
    return RedactionContext(
        note.note_id,
        note.patient_id,
        date_shift_days=shift_days,
        reference_year=note.note_date.year if note.note_date else None,
        hash_key=keys.hash,
        surrogate_key=patient_key(keys.surrogate, note.patient_id) if keys.surrogate else None,
        surrogate_book=surrogate_book,
    )


def redact_fields(
    texts: Mapping[str, str],
    merged: Mapping[str, list[Span]],
    policy: RedactionPolicy,
    context: RedactionContext,
) -> dict[str, RedactionResult]:
    try:
        return {name: redact(texts[name], merged[name], policy, context) for name in texts}
    except Exception as exc:  # noqa: BLE001 - only the type: a message may quote the text
        raise NoteFailure("redaction_failed", type(exc).__name__) from None


def released_entities(
    note: Note, entities: EntityResult | None, redaction: RedactionResult, id_key: bytes
) -> list[dict[str, Any]]:
    """The note's entity rows, projected onto its redacted text. A note whose entity
    step failed, or did not run although configured, fails: fail closed."""
    if entities is None:
        raise NoteFailure("entities_failed", "entity step did not run")
    if isinstance(entities, ModelFailure):
        raise NoteFailure("entities_failed", entities.detail)
    try:
        return entity_rows(
            note.note_id, entities, redaction.text, redaction.offset_map, id_key=id_key
        )
    except Exception as exc:  # noqa: BLE001 - only the type: a message may quote the text
        raise NoteFailure("entities_failed", f"projection: {type(exc).__name__}") from None


def release_columns(
    note: Note, columns: ColumnRelease, context: RedactionContext
) -> dict[str, str | None]:
    try:
        return {c: columns.release(c, v, context) for c, v in note.columns.items()}
    except ColumnValueError as exc:
        raise NoteFailure("invalid_column_value", str(exc)) from None
    except Exception as exc:  # noqa: BLE001
        raise NoteFailure("redaction_failed", type(exc).__name__) from None


def detect_note(
    note: Note,
    *,
    components: DeidComponents,
    model_results: Mapping[str, ModelResult] | None = None,
) -> dict[str, list[Span]]:
    """Every detector on every text field, merged: the spans of each field.
    Raises ``NoteFailure`` where a detector failed or did not run."""
    return detect_phi(
        note.texts(),
        components.in_step_detectors,
        model_results or {},
        components.expected_models,
        components.filters,
    )


def words_to_reserve(
    note: Note, merged: Mapping[str, list[Span]], components: DeidComponents
) -> set[str]:
    """The words of a note's PHI and surrogate columns that its surrogates will need."""
    words: set[str] = set()
    for name, text in note.texts().items():
        words |= redaction_words(text, merged[name], components.policy)
    for column, value in note.columns.items():
        words |= components.columns.words_to_reserve(column, value)
    return words


def quarantine_note(note: Note, failure: NoteFailure, keys: RunKeys) -> Quarantined:
    return Quarantined(
        note.source_file,
        note.record_number,
        note.note_id,
        failure.reason,
        failure.detail,
        {"note_id": note.note_id, "patient_id": note.patient_id, "text": note.text},
        keyed_text_digest(keys, note.text),
    )


def deidentify_note(
    note: Note,
    *,
    components: DeidComponents,
    keys: RunKeys,
    run_id: str,
    model_results: Mapping[str, ModelResult] | None = None,
    entities: EntityResult | None = None,
    detector_descriptions: str | None = None,
    detected: Mapping[str, list[Span]] | None = None,
    surrogate_book: SurrogateBook | None = None,
    detect_ms: float = 0.0,
) -> DeidOutcome:
    """Run every detector on every text field, merge, redact, release the columns,
    project the note's clinical entities onto its redacted text, and code them.

    ``model_results`` holds what the batched model detectors found in earlier
    steps; ``components.expected_models`` must all be there. ``entities`` is
    what the entity step found, needed when ``components.entities`` is set.
    The patient step passes the spans it has ``detected`` already (taking
    ``detect_ms``), and the patient's ``surrogate_book``.
    """
    started = time.perf_counter()
    digest = keyed_text_digest(keys, note.text)
    texts = note.texts()
    # One offset per patient serves the dates in the text and in every date column.
    shift_days = patient_date_offset(keys, note.patient_id, components.settings)
    context = redaction_context(note, keys, shift_days=shift_days, surrogate_book=surrogate_book)
    try:
        merged = (
            dict(detected)
            if detected is not None
            else detect_note(note, components=components, model_results=model_results)
        )
        redacted = redact_fields(texts, merged, components.policy, context)
        columns = release_columns(note, components.columns, context)
        found_entities = (
            released_entities(note, entities, redacted["text"], keys.digest)
            if components.entities is not None
            else []
        )
        found_codes = (
            # released_entities has checked that the entity step ran and succeeded.
            code_rows(
                note.note_id,
                note.text,
                entities,  # type: ignore[arg-type]
                redacted["text"],
                components.coding,
                components.entities.asserter(),  # type: ignore[union-attr]
                id_key=keys.digest,
            )
            if components.coding is not None
            else []
        )
    except NoteFailure as failure:
        return DeidOutcome(None, [], None, quarantine_note(note, failure, keys))

    all_spans = [span for spans in merged.values() for span in spans]
    note_row: dict[str, Any] = {
        "note_id": note.note_id,
        "patient_id": pseudonymize(keys.patient_id, note.patient_id),
        "text_deid": redacted["text"].text,
        "note_date": release_note_date(
            note.note_date,
            components.settings.note_date_policy,
            shift_days=shift_days,
        ),
        "note_type": note.note_type,
        # A keyed pseudonym, like patient_id: it groups a visit's notes (and their
        # codes, for HCC eligibility) without giving away the hospital's number.
        "encounter_id": (
            pseudonymize(keys.encounter_id, note.encounter_id)
            if note.encounter_id and keys.encounter_id
            else None
        ),
        "n_phi": len(all_spans),
        **columns,
        # A blank text column has nothing to redact and is released as read.
        **{c: redacted[c].text if c in redacted else v for c, v in note.text_columns.items()},
    }
    audit_row = released_audit_row(
        run_id=run_id,
        source_file=note.source_file,
        record_number=note.record_number,
        note_id=note.note_id,
        text_digest=digest,
        spans=all_spans,
        detectors=detector_descriptions
        or json.dumps([d.describe() for d in components.detectors], sort_keys=True),
        processing_ms=round(detect_ms + (time.perf_counter() - started) * 1000.0, 3),
    )
    return DeidOutcome(
        note_row,
        span_rows(note.note_id, merged, texts),
        audit_row,
        None,
        entity_rows=found_entities,
        code_rows=found_codes,
    )
