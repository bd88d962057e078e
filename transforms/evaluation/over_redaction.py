"""Over-redaction on text that holds no PHI: how many words a run redacted, and which.

Every redacted word of such text is a false positive, so the rate (words
redacted per 1,000) measures what a release loses without any gold spans. The
most redacted words are note text: they go only to an owner-only report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from schemas.phi_types import PHI_TYPES
from transforms.evaluation.metrics import TOKEN, PredSpan


@dataclass
class OverRedaction:
    records: int = 0
    words: int = 0
    redacted: Counter[str] = field(default_factory=Counter)  # phi_type -> words
    redacted_words: Counter[str] = field(default_factory=Counter)  # lower-cased word -> times

    def per_1000(self, count: int) -> float:
        return round(1000.0 * count / self.words, 3) if self.words else 0.0

    def to_dict(self) -> dict[str, object]:
        """Counts and rates only: no word of the text."""
        total = sum(self.redacted.values())
        return {
            "records": self.records,
            "words": self.words,
            "redacted_words": total,
            "redacted_per_1000": self.per_1000(total),
            "by_type": {
                phi_type: {
                    "redacted_words": self.redacted[phi_type],
                    "redacted_per_1000": self.per_1000(self.redacted[phi_type]),
                }
                for phi_type in PHI_TYPES
                if self.redacted[phi_type]
            },
        }


def over_redaction(
    texts: Mapping[str, str], predictions: Mapping[str, Sequence[PredSpan]]
) -> OverRedaction:
    """Count the words of each text that a predicted span covers, by the span's type."""
    result = OverRedaction()
    for record_id, text in texts.items():
        result.records += 1
        spans = sorted(predictions.get(record_id, ()), key=lambda s: s.start)
        first = 0  # spans before it end before the current word, and so before every later one
        for match in TOKEN.finditer(text):
            result.words += 1
            while first < len(spans) and spans[first].end <= match.start():
                first += 1
            covering = next(
                (s for s in spans[first:] if s.start < match.end() and match.start() < s.end),
                None,
            )
            if covering is not None:
                result.redacted[covering.phi_type] += 1
                result.redacted_words[match.group().lower()] += 1
    return result
