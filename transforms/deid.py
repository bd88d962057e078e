"""Detect PHI, merge spans and redact one note at a time: the pure step and its DoFn."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.config import DeidcodeConfig
from schemas.tables import PHI_COUNT_COLUMNS
from transforms.detectors import Detector, build_detectors
from transforms.keyed import date_shift_days, patient_key, pseudonymize, shift_date
from transforms.ner.handler import AnnotatedNote, ModelFailure
from transforms.phi_types import PHI_TYPES
from transforms.records import Note, Quarantined
from transforms.redaction import RedactionContext, RedactionPolicy, redact
from transforms.spans import Span, merge_spans

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunKeys:
    """Purpose-specific sub-keys derived from the run key (see ``transforms.keyed``)."""

    patient_id: bytes
    date_shift: bytes
    hash: bytes | None = None
    surrogate: bytes | None = None


@dataclass(frozen=True)
class DeidOutcome:
    note_row: dict[str, Any] | None
    span_rows: list[dict[str, Any]]
    audit_row: dict[str, Any] | None
    quarantined: Quarantined | None


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def patient_date_offset(keys: RunKeys, patient_id: str, config: DeidcodeConfig) -> int:
    return date_shift_days(
        keys.date_shift,
        patient_id,
        min_days=config.keys.date_shift_min_days,
        max_days=config.keys.date_shift_max_days,
    )


def release_note_date(note_date: dt.date | None, policy: str, *, shift_days: int) -> dt.date | None:
    """The structured note date as released; ``shift_days`` is the patient's offset."""
    if note_date is None or policy == "drop":
        return None
    if policy == "keep":
        return note_date
    if policy == "year":
        return dt.date(note_date.year, 1, 1)
    return shift_date(note_date, shift_days)


def _check_spans(spans: list[Span], text_length: int, detector: str) -> None:
    for span in spans:
        if span.end > text_length:
            raise ValueError(f"detector {detector} returned a span beyond the text")


def deidentify_note(
    note: Note,
    *,
    detectors: list[Detector],
    policy: RedactionPolicy,
    keys: RunKeys,
    config: DeidcodeConfig,
    run_id: str,
    model_results: Mapping[str, tuple[Span, ...] | ModelFailure] | None = None,
    expected_models: Sequence[str] = (),
    detector_descriptions: str | None = None,
) -> DeidOutcome:
    """Run every detector, merge, redact. Any failure quarantines the note (fail closed).

    ``model_results`` holds what the batched model detectors found in earlier
    steps; every name in ``expected_models`` must be there without a failure.
    """
    started = time.perf_counter()
    model_results = model_results or {}
    digest = text_sha256(note.text)

    def fail(reason: str, detail: str) -> DeidOutcome:
        return DeidOutcome(
            None,
            [],
            None,
            Quarantined(
                note.source_file,
                note.record_number,
                note.note_id,
                reason,
                detail,
                {"note_id": note.note_id, "patient_id": note.patient_id, "text": note.text},
                digest,
            ),
        )

    found: list[Span] = []
    for name in expected_models:
        result = model_results.get(name)
        if result is None:
            return fail("detector_failed", f"detector {name}: did not run")
        if isinstance(result, ModelFailure):
            return fail("detector_failed", f"detector {name}: {result.detail}")
        try:
            _check_spans(list(result), len(note.text), name)
        except ValueError:
            return fail("detector_failed", f"detector {name}: span beyond the text")
        found.extend(result)
    for detector in detectors:
        try:
            spans = detector.detect(note.text)
            _check_spans(spans, len(note.text), detector.name)
        except Exception as exc:  # noqa: BLE001 - any failure must quarantine, not crash
            # Only the exception type: messages from libraries may quote the text.
            return fail("detector_failed", f"detector {detector.name}: {type(exc).__name__}")
        found.extend(spans)
    merged = merge_spans(found)
    # One offset per patient serves the dates in the text and the note_date column.
    shift_days = patient_date_offset(keys, note.patient_id, config)
    context = RedactionContext(
        note.note_id,
        note.patient_id,
        date_shift_days=shift_days,
        reference_year=note.note_date.year if note.note_date else None,
        hash_key=keys.hash,
        surrogate_key=patient_key(keys.surrogate, note.patient_id) if keys.surrogate else None,
    )
    try:
        result = redact(note.text, merged, policy, context)
    except Exception as exc:  # noqa: BLE001
        return fail("redaction_failed", type(exc).__name__)

    counts = Counter(span.phi_type for span in merged)
    patient_pseudonym = pseudonymize(keys.patient_id, note.patient_id)
    note_row: dict[str, Any] = {
        "note_id": note.note_id,
        "patient_id": patient_pseudonym,
        "text_deid": result.text,
        "note_date": release_note_date(
            note.note_date, config.output.note_date, shift_days=shift_days
        ),
        "note_type": note.note_type,
        "n_phi": len(merged),
        **note.kept,
    }
    span_rows = [{"note_id": note.note_id, **span.to_dict()} for span in merged]
    audit_row = {
        "run_id": run_id,
        "source_file": note.source_file,
        "record_number": note.record_number,
        "note_id": note.note_id,
        "outcome": "released",
        "reason": None,
        "text_sha256": digest,
        **{f"n_{t.lower()}": counts.get(t, 0) for t in PHI_TYPES},
        "n_phi": len(merged),
        "detectors": detector_descriptions
        or json.dumps([d.describe() for d in detectors], sort_keys=True),
        "processing_ms": round((time.perf_counter() - started) * 1000.0, 3),
    }
    return DeidOutcome(note_row, span_rows, audit_row, None)


def quarantine_audit_row(item: Quarantined, run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source_file": item.source_file,
        "record_number": item.record_number,
        "note_id": item.note_id,
        "outcome": "quarantined",
        "reason": item.reason,
        "text_sha256": item.text_sha256,
        **{name: 0 for name in PHI_COUNT_COLUMNS},
        "n_phi": 0,
        "detectors": "[]",
        "processing_ms": 0.0,
    }


class DeidentifyNotes(beam.DoFn):
    """Thin DoFn around ``deidentify_note``; detectors load once per worker in ``setup``."""

    SPANS = "spans"
    AUDIT = "audit"
    QUARANTINE = "quarantine"

    def __init__(
        self,
        *,
        config: dict[str, Any],
        keys: RunKeys,
        run_id: str,
        detector_descriptions: list[dict[str, str]] | None = None,
    ) -> None:
        self._config_data = config
        self._descriptions = (
            json.dumps(detector_descriptions, sort_keys=True) if detector_descriptions else None
        )
        self._keys = keys
        self._run_id = run_id
        self._released = Metrics.counter("deidcode", "notes_released")
        self._failed = Metrics.counter("deidcode", "notes_failed_deid")

    def setup(self) -> None:
        self._config = DeidcodeConfig.model_validate(self._config_data)
        detectors = build_detectors(
            [spec.model_dump() for spec in self._config.detection.detectors]
        )
        self._expected_models = [d.name for d in detectors if d.batched]
        self._detectors = [d for d in detectors if not d.batched]
        for detector in self._detectors:
            detector.load()
        redaction = self._config.redaction
        self._policy = RedactionPolicy.from_config(
            redaction.default, redaction.phi_types, redaction.subtypes
        )

    def process(self, item: Note | AnnotatedNote):  # type: ignore[override]
        annotated = item if isinstance(item, AnnotatedNote) else AnnotatedNote(item)
        outcome = deidentify_note(
            annotated.note,
            detectors=self._detectors,
            policy=self._policy,
            keys=self._keys,
            config=self._config,
            run_id=self._run_id,
            model_results=annotated.model_results,
            expected_models=self._expected_models,
            detector_descriptions=self._descriptions,
        )
        if outcome.quarantined is not None:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(self.QUARANTINE, outcome.quarantined)
            return
        self._released.inc()
        yield outcome.note_row
        for row in outcome.span_rows:
            yield beam.pvalue.TaggedOutput(self.SPANS, row)
        yield beam.pvalue.TaggedOutput(self.AUDIT, outcome.audit_row)
