"""De-identify one patient's notes together, where surrogates need the patient's words.

Pure, like the note step it calls. A surrogate word must not be shared by two of
the patient's words in any note or run, so every note of the patient is
detected first, all their words are reserved at once against the patient's
surrogate ledger, and only then is each note redacted with that one book.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transforms.core.errors import NoteFailure
from transforms.core.keyed import RunKeys, patient_key
from transforms.core.records import AnnotatedNote
from transforms.deid.components import DeidComponents
from transforms.deid.note import (
    DeidOutcome,
    deidentify_note,
    detect_note,
    quarantine_note,
    words_to_reserve,
)
from transforms.redaction.surrogates import (
    SurrogateBook,
    SurrogateError,
    assign_words,
    bundled_name_pools,
)


@dataclass(frozen=True)
class PatientOutcome:
    outcomes: list[DeidOutcome]
    # New ledger entries: {patient_id, word_digest, surrogate, run_id}.
    ledger_rows: list[dict[str, Any]]


@dataclass(frozen=True)
class _Detected:
    annotated: AnnotatedNote
    spans: dict
    words: set[str]
    detect_ms: float


def _failed(annotated: AnnotatedNote, keys: RunKeys, failure: NoteFailure) -> DeidOutcome:
    return DeidOutcome(None, [], None, quarantine_note(annotated.note, failure, keys))


def _detect(annotated: AnnotatedNote, components: DeidComponents) -> _Detected:
    started = time.perf_counter()
    spans = detect_note(
        annotated.note, components=components, model_results=annotated.model_results
    )
    try:
        words = words_to_reserve(annotated.note, spans, components)
    except Exception as exc:  # noqa: BLE001 - only the type: a message may quote the text
        raise NoteFailure("redaction_failed", type(exc).__name__) from None
    return _Detected(annotated, spans, words, (time.perf_counter() - started) * 1000.0)


def deidentify_patient(
    patient_pseudonym: str,
    notes: list[AnnotatedNote],
    *,
    ledger: Mapping[str, str],
    components: DeidComponents,
    keys: RunKeys,
    run_id: str,
    detector_descriptions: str | None = None,
) -> PatientOutcome:
    """Detect every note of one patient, reserve their words against ``ledger`` (word
    digest -> surrogate, this patient's entries), and redact each note."""
    if keys.surrogate is None:
        raise ValueError("the run keys have no surrogate sub-key")
    outcomes: list[DeidOutcome] = []
    detected: list[_Detected] = []
    for annotated in sorted(notes, key=lambda a: (a.note.source_file, a.note.record_number)):
        try:
            detected.append(_detect(annotated, components))
        except NoteFailure as failure:
            outcomes.append(_failed(annotated, keys, failure))
    if not detected:
        return PatientOutcome(outcomes, [])
    key = patient_key(keys.surrogate, detected[0].annotated.note.patient_id)
    words = set().union(*(item.words for item in detected))
    try:
        assignment = assign_words(key, words, bundled_name_pools(), ledger)
    except SurrogateError as exc:
        failure = NoteFailure("redaction_failed", str(exc))
        return PatientOutcome(
            outcomes + [_failed(d.annotated, keys, failure) for d in detected], []
        )
    book = SurrogateBook(key, assignment.surrogates)
    for item in detected:
        outcomes.append(
            deidentify_note(
                item.annotated.note,
                components=components,
                keys=keys,
                run_id=run_id,
                entities=item.annotated.entities,
                detector_descriptions=detector_descriptions,
                detected=item.spans,
                surrogate_book=book,
                detect_ms=item.detect_ms,
            )
        )
    ledger_rows = [
        {"patient_id": patient_pseudonym, "word_digest": d, "surrogate": s, "run_id": run_id}
        for d, s in sorted(assignment.new_entries.items())
    ]
    return PatientOutcome(outcomes, ledger_rows)
