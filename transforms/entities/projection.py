"""Entity rows for the release: original-text entities projected onto the redacted text.

Pure. The released surface is always cut from the redacted text, so an entity
that overlaps PHI (an eponym inside a name) carries the replacement, never the
original characters; an entity made only of PHI has no released position.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from transforms.core.entities import ClinicalEntity
from transforms.core.offsets import OffsetSegment, project_span


def entity_id(id_key: bytes, note_id: str, entity: ClinicalEntity) -> str:
    """Stable across runs with one key: the same note, offsets, label and model give the
    same id. Keyed, because an unkeyed digest of small original offsets is inverted by
    trying them all, and would give away the original position (and PHI lengths)."""
    key = "\x1f".join((note_id, str(entity.start), str(entity.end), entity.label, entity.model))
    return hmac.new(id_key, b"entity|" + key.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def covered_by_redactions(start: int, end: int, offset_map: Sequence[OffsetSegment]) -> bool:
    """True if every character of [start, end) lies in some replaced region."""
    cursor = start
    for segment in offset_map:  # sorted and non-overlapping, as redact() writes them
        if segment.orig_end <= cursor:
            continue
        if segment.orig_start > cursor:
            return False
        cursor = segment.orig_end
        if cursor >= end:
            return True
    return cursor >= end


def released_span(
    start: int, end: int, redacted_text: str, offset_map: Sequence[OffsetSegment]
) -> tuple[int | None, int | None, str | None]:
    """``(start_deid, end_deid, text_deid)`` of an original-text span, or all None
    when the span is all PHI."""
    if covered_by_redactions(start, end, offset_map):
        return None, None, None
    start_deid, end_deid = project_span(start, end, offset_map)
    return start_deid, end_deid, redacted_text[start_deid:end_deid]


def released_position(
    entity: ClinicalEntity, redacted_text: str, offset_map: Sequence[OffsetSegment]
) -> tuple[int | None, int | None, str | None]:
    """``(start_deid, end_deid, text_deid)``, or all None when the entity is all PHI."""
    return released_span(entity.start, entity.end, redacted_text, offset_map)


def entity_rows(
    note_id: str,
    entities: Sequence[ClinicalEntity],
    redacted_text: str,
    offset_map: Sequence[OffsetSegment],
    *,
    id_key: bytes,
) -> list[dict[str, Any]]:
    rows = []
    for entity in entities:
        start_deid, end_deid, text_deid = released_position(entity, redacted_text, offset_map)
        rows.append(
            {
                "note_id": note_id,
                "entity_id": entity_id(id_key, note_id, entity),
                "label": entity.label,
                "start": entity.start,
                "end": entity.end,
                "start_deid": start_deid,
                "end_deid": end_deid,
                "text_deid": text_deid,
                "score": entity.score,
                "negated": entity.assertion.negated,
                "historical": entity.assertion.historical,
                "hypothetical": entity.assertion.hypothetical,
                "family": entity.assertion.family,
                "uncertain": entity.assertion.uncertain,
                "section": entity.assertion.section,
                "assertion_rules": list(entity.assertion.rules),
                "model": entity.model,
            }
        )
    return rows
