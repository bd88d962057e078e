"""Running every configured detector on a note's texts, fail closed, and merging the spans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from transforms.core.errors import NoteFailure
from transforms.core.records import ModelFailure, ModelResult
from transforms.core.spans import Span, merge_spans
from transforms.detection.base import Detector
from transforms.detection.guards import SpanFilter


def _checked(spans: Sequence[Span], text: str, detector: str, field: str) -> Sequence[Span]:
    for span in spans:
        if span.end > len(text):
            raise NoteFailure("detector_failed", f"detector {detector}: span beyond the {field}")
    return spans


def detect_phi(
    texts: Mapping[str, str],
    detectors: Sequence[Detector],
    model_results: Mapping[str, ModelResult],
    expected_models: Sequence[str],
    filters: Sequence[SpanFilter] = (),
) -> dict[str, list[Span]]:
    """Merged spans for every text field (the note's ``text`` and its deid_text columns).

    ``model_results`` holds what the batched model detectors found in earlier
    steps; every name in ``expected_models`` must be there, for every field,
    without a failure. Any detector that did not run, failed, or returned a
    span beyond its text raises ``NoteFailure("detector_failed", …)``. The
    ``filters`` then remove spans that are not PHI, in order, before the merge;
    a filter that fails fails the note the same way.
    """
    found: dict[str, list[Span]] = {field: [] for field in texts}
    for name in expected_models:
        result = model_results.get(name)
        if result is None:
            raise NoteFailure("detector_failed", f"detector {name}: did not run")
        if isinstance(result, ModelFailure):
            raise NoteFailure("detector_failed", f"detector {name}: {result.detail}")
        for field, text in texts.items():
            if field not in result:
                raise NoteFailure("detector_failed", f"detector {name}: did not run on {field}")
            found[field].extend(_checked(result[field], text, name, field))
    for detector in detectors:
        for field, text in texts.items():
            try:
                spans = detector.detect(text)
            except Exception as exc:  # noqa: BLE001 - any failure must quarantine, not crash
                # Only the exception type: messages from libraries may quote the text.
                detail = f"detector {detector.name}: {type(exc).__name__}"
                raise NoteFailure("detector_failed", detail) from None
            found[field].extend(_checked(spans, text, detector.name, field))
    for span_filter in filters:
        for field, text in texts.items():
            try:
                found[field] = span_filter.filter(text, found[field])
            except Exception as exc:  # noqa: BLE001 - a half-filtered note is not released
                detail = f"span filter {span_filter.name}: {type(exc).__name__}"
                raise NoteFailure("detector_failed", detail) from None
    return {field: merge_spans(spans) for field, spans in found.items()}
