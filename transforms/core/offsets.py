"""The offset map of a redaction, and projecting original-text spans onto the redacted text."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OffsetSegment:
    """A replaced region: ``original[orig_start:orig_end]`` became ``deid[deid_start:deid_end]``."""

    orig_start: int
    orig_end: int
    deid_start: int
    deid_end: int


def _last_segment_at(position: int, offset_map: Sequence[OffsetSegment]) -> OffsetSegment | None:
    """The last replaced segment that starts at or before ``position``."""
    index = bisect.bisect_right([seg.orig_start for seg in offset_map], position) - 1
    return offset_map[index] if index >= 0 else None


def project_span(start: int, end: int, offset_map: Sequence[OffsetSegment]) -> tuple[int, int]:
    """Project an end-exclusive span of the original text onto the redacted text.

    A span that starts or ends inside a replaced region is widened to cover
    that whole replacement, so the projection never cuts a tag or surrogate.
    """
    if not 0 <= start < end:
        raise ValueError(f"invalid span [{start}, {end})")
    first = _last_segment_at(start, offset_map)
    if first is None:
        new_start = start
    elif start < first.orig_end:
        new_start = first.deid_start
    else:
        new_start = first.deid_end + (start - first.orig_end)
    last_char = end - 1
    last = _last_segment_at(last_char, offset_map)
    if last is None:
        new_end = end
    elif last_char < last.orig_end:
        new_end = last.deid_end
    else:
        new_end = last.deid_end + (last_char - last.orig_end) + 1
    return new_start, new_end
