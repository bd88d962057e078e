"""The rows a note contributes to the notes, phi_spans and audit tables."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from schemas.phi_types import PHI_TYPES
from schemas.tables import PHI_COUNT_COLUMNS
from transforms.core.keyed import shift_date
from transforms.core.records import Quarantined
from transforms.core.spans import Span


def release_note_date(note_date: dt.date | None, policy: str, *, shift_days: int) -> dt.date | None:
    """The structured note date as released; ``shift_days`` is the patient's offset."""
    if note_date is None or policy == "drop":
        return None
    if policy == "keep":
        return note_date
    if policy == "year":
        return dt.date(note_date.year, 1, 1)
    return shift_date(note_date, shift_days)


_WORD = re.compile(r"[^\W_]+")


def span_rows(
    note_id: str, merged: Mapping[str, list[Span]], texts: Mapping[str, str]
) -> list[dict[str, Any]]:
    """One row per span. ``n_tokens`` (its words) lets a release report turn the
    model card's token recall into expected missed tokens without the text."""
    return [
        {
            "note_id": note_id,
            "field": field,
            **span.to_dict(),
            "n_tokens": len(_WORD.findall(texts[field][span.start : span.end])),
        }
        for field, spans in merged.items()
        for span in spans
    ]


def released_audit_row(
    *,
    run_id: str,
    source_file: str,
    record_number: int,
    note_id: str,
    text_digest: str,
    spans: list[Span],
    detectors: str,
    processing_ms: float,
) -> dict[str, Any]:
    counts = Counter(span.phi_type for span in spans)
    return {
        "run_id": run_id,
        "source_file": source_file,
        "record_number": record_number,
        "note_id": note_id,
        "outcome": "released",
        "reason": None,
        "text_hmac": text_digest,
        **{f"n_{t.lower()}": counts.get(t, 0) for t in PHI_TYPES},
        "n_phi": len(spans),
        "detectors": detectors,
        "processing_ms": processing_ms,
    }


def quarantine_audit_row(item: Quarantined, run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "source_file": item.source_file,
        "record_number": item.record_number,
        "note_id": item.note_id,
        "outcome": "quarantined",
        "reason": item.reason,
        "text_hmac": item.text_digest,
        **{name: 0 for name in PHI_COUNT_COLUMNS},
        "n_phi": 0,
        "detectors": "[]",
        "processing_ms": 0.0,
    }
