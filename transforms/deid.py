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
from transforms.columns import ColumnRelease, ColumnValueError
from transforms.detectors import Detector, build_detectors
from transforms.keyed import date_shift_days, patient_key, pseudonymize, shift_date
from transforms.ner.handler import AnnotatedNote, ModelFailure, ModelResult
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


class _NoteFailed(Exception):
    """Stops one note: it goes to quarantine with ``reason`` and ``detail``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _checked(spans: Sequence[Span], text: str, detector: str, field: str) -> Sequence[Span]:
    for span in spans:
        if span.end > len(text):
            raise _NoteFailed("detector_failed", f"detector {detector}: span beyond the {field}")
    return spans


def _detect_all(
    texts: Mapping[str, str],
    detectors: list[Detector],
    model_results: Mapping[str, ModelResult],
    expected_models: Sequence[str],
) -> dict[str, list[Span]]:
    """Merged spans for every text field; any detector that did not run fails the note."""
    found: dict[str, list[Span]] = {field: [] for field in texts}
    for name in expected_models:
        result = model_results.get(name)
        if result is None:
            raise _NoteFailed("detector_failed", f"detector {name}: did not run")
        if isinstance(result, ModelFailure):
            raise _NoteFailed("detector_failed", f"detector {name}: {result.detail}")
        for field, text in texts.items():
            if field not in result:
                raise _NoteFailed("detector_failed", f"detector {name}: did not run on {field}")
            found[field].extend(_checked(result[field], text, name, field))
    for detector in detectors:
        for field, text in texts.items():
            try:
                spans = detector.detect(text)
            except Exception as exc:  # noqa: BLE001 - any failure must quarantine, not crash
                # Only the exception type: messages from libraries may quote the text.
                detail = f"detector {detector.name}: {type(exc).__name__}"
                raise _NoteFailed("detector_failed", detail) from None
            found[field].extend(_checked(spans, text, detector.name, field))
    return {field: merge_spans(spans) for field, spans in found.items()}


def deidentify_note(
    note: Note,
    *,
    detectors: list[Detector],
    policy: RedactionPolicy,
    keys: RunKeys,
    config: DeidcodeConfig,
    run_id: str,
    model_results: Mapping[str, ModelResult] | None = None,
    expected_models: Sequence[str] = (),
    detector_descriptions: str | None = None,
    column_release: ColumnRelease | None = None,
) -> DeidOutcome:
    """Run every detector on every text field, merge, redact, release the columns.

    Any failure quarantines the note (fail closed). ``model_results`` holds what
    the batched model detectors found in earlier steps; every name in
    ``expected_models`` must be there, for every text field, without a failure.
    """
    started = time.perf_counter()
    digest = text_sha256(note.text)
    if column_release is None:
        column_release = ColumnRelease.from_policies(config.input.column_policies)
    texts = note.texts()
    # One offset per patient serves the dates in the text and in every date column.
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
        merged = _detect_all(texts, detectors, model_results or {}, expected_models)
        try:
            redacted = {f: redact(texts[f], merged[f], policy, context).text for f in texts}
            columns = {c: column_release.release(c, v, context) for c, v in note.columns.items()}
        except ColumnValueError as exc:
            raise _NoteFailed("invalid_column_value", str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            raise _NoteFailed("redaction_failed", type(exc).__name__) from None
    except _NoteFailed as failure:
        quarantined = Quarantined(
            note.source_file,
            note.record_number,
            note.note_id,
            failure.reason,
            failure.detail,
            {"note_id": note.note_id, "patient_id": note.patient_id, "text": note.text},
            digest,
        )
        return DeidOutcome(None, [], None, quarantined)

    all_spans = [span for spans in merged.values() for span in spans]
    counts = Counter(span.phi_type for span in all_spans)
    note_row: dict[str, Any] = {
        "note_id": note.note_id,
        "patient_id": pseudonymize(keys.patient_id, note.patient_id),
        "text_deid": redacted["text"],
        "note_date": release_note_date(
            note.note_date, config.output.note_date, shift_days=shift_days
        ),
        "note_type": note.note_type,
        "n_phi": len(all_spans),
        **columns,
        # A blank text column has nothing to redact and is released as read.
        **{c: redacted.get(c, v) for c, v in note.text_columns.items()},
    }
    span_rows = [
        {"note_id": note.note_id, "field": field, **span.to_dict()}
        for field, spans in merged.items()
        for span in spans
    ]
    audit_row = {
        "run_id": run_id,
        "source_file": note.source_file,
        "record_number": note.record_number,
        "note_id": note.note_id,
        "outcome": "released",
        "reason": None,
        "text_sha256": digest,
        **{f"n_{t.lower()}": counts.get(t, 0) for t in PHI_TYPES},
        "n_phi": len(all_spans),
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
        self._columns = ColumnRelease.from_policies(self._config.input.column_policies)

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
            column_release=self._columns,
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
