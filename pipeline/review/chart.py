"""The chart page's note: the text cut at every evidence boundary, each piece
with the suggestions whose evidence covers it, so selecting a code can light
up its spans without any offsets reaching the browser's script."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    text: str
    suggestion_ids: tuple[int, ...]

    @property
    def data_codes(self) -> str:
        return " ".join(f"s{i}" for i in self.suggestion_ids)


def note_segments(text: str, suggestions: Sequence[Any]) -> list[Segment]:
    """``suggestions`` carry ``suggestion_id`` and ``evidence`` (JSON [[start, end], ...])."""
    spans = [
        (max(0, start), min(len(text), end), row.suggestion_id)
        for row in suggestions
        for start, end in json.loads(row.evidence)
        if start < end
    ]
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    segments = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        covering = tuple(sorted({sid for s, e, sid in spans if s <= start and end <= e}))
        segments.append(Segment(text[start:end], covering))
    return segments
