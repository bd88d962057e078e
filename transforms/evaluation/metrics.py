"""Score predicted PHI spans against gold: token- and entity-level, per coarse type.

Pure functions over plain records, so the figures in the model card can be
recomputed from any run's ``phi_spans`` table.

* Token level: tokens are runs of word characters. A gold token is recalled if
  any predicted span (of any type: de-identification cares whether it was
  redacted, not how it was labelled) overlaps it.
* Entity level: a gold entity is recalled only if every one of its tokens is
  (a partly redacted name still leaks). A predicted span is correct if it
  overlaps a gold entity.
* Hard negatives: the share of records marked ``hard_negative`` that got any
  predicted span (over-redaction).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from schemas.phi_types import PHI_TYPES, coarse_type

TOKEN = re.compile(r"\w+")
# Titles are not identifiers, and gold sets differ on whether a name span
# includes them ("Dr. Patel" or "Patel"), so they are not scored.
TITLES = frozenset({"dr", "drs", "mr", "mrs", "ms", "miss", "mx", "prof", "doctor"})


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    phi_type: str
    label: str


@dataclass(frozen=True)
class GoldRecord:
    id: str
    text: str
    spans: tuple[GoldSpan, ...]
    hard_negative: bool = False


@dataclass(frozen=True)
class PredSpan:
    start: int
    end: int
    phi_type: str


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    def f_beta(self, beta: float) -> float:
        p, r = self.precision(), self.recall()
        if p == 0 and r == 0:
            return 0.0
        return (1 + beta**2) * p * r / (beta**2 * p + r)

    def summary(self) -> dict[str, float | int]:
        return {
            "recall": round(self.recall(), 4),
            "precision": round(self.precision(), 4),
            "f1": round(self.f_beta(1.0), 4),
            "f2": round(self.f_beta(2.0), 4),
            "support": self.tp + self.fn,
        }


@dataclass(frozen=True)
class Miss:
    record_id: str
    phi_type: str
    label: str
    start: int
    end: int
    surface: str
    context: str


@dataclass
class Evaluation:
    token: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    entity: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    hard_negative_records: int = 0
    hard_negative_flagged: int = 0
    records: int = 0
    misses: list[Miss] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        def table(counts: Mapping[str, Counts]) -> dict[str, dict[str, float | int]]:
            return {key: counts[key].summary() for key in sorted(counts)}

        rate = (
            self.hard_negative_flagged / self.hard_negative_records
            if self.hard_negative_records
            else 0.0
        )
        return {
            "records": self.records,
            "token": table(self.token),
            "entity": table(self.entity),
            "hard_negatives": {
                "records": self.hard_negative_records,
                "over_redacted": self.hard_negative_flagged,
                "over_redaction_rate": round(rate, 4),
            },
            "missed_entities": len(self.misses),
        }


def _overlaps(start: int, end: int, spans: Sequence[PredSpan] | Sequence[GoldSpan]) -> list:
    return [s for s in spans if s.start < end and start < s.end]


def evaluate(
    gold: Iterable[GoldRecord],
    predictions: Mapping[str, Sequence[PredSpan]],
    *,
    exclude_types: Iterable[str] = (),
    context_chars: int = 40,
    score_titles: bool = False,
) -> Evaluation:
    excluded = set(exclude_types)
    titles = frozenset() if score_titles else TITLES
    result = Evaluation()
    for record in gold:
        result.records += 1
        spans = [s for s in record.spans if s.phi_type not in excluded]
        ignored = [s for s in record.spans if s.phi_type in excluded]
        predicted = list(predictions.get(record.id, ()))
        if record.hard_negative:
            result.hard_negative_records += 1
            result.hard_negative_flagged += bool(predicted)
        for match in TOKEN.finditer(record.text):
            start, end = match.span()
            if _overlaps(start, end, ignored):
                continue
            gold_hits = _overlaps(start, end, spans)
            if match.group().lower() in titles and all(s.phi_type == "NAME" for s in gold_hits):
                continue
            pred_hits = _overlaps(start, end, predicted)
            for phi_type in {s.phi_type for s in gold_hits}:
                counts = result.token[phi_type]
                if pred_hits:
                    counts.tp += 1
                else:
                    counts.fn += 1
            for phi_type in {s.phi_type for s in pred_hits}:
                if not gold_hits:
                    result.token[phi_type].fp += 1
            overall = result.token["ALL"]
            if gold_hits and pred_hits:
                overall.tp += 1
            elif gold_hits:
                overall.fn += 1
            elif pred_hits:
                overall.fp += 1
        for span in spans:
            tokens = [
                m.span()
                for m in TOKEN.finditer(record.text, span.start, span.end)
                if span.phi_type != "NAME" or m.group().lower() not in titles
            ]
            covered = (
                all(_overlaps(a, b, predicted) for a, b in tokens)
                if tokens
                else bool(_overlaps(span.start, span.end, predicted))
            )
            for key in (span.phi_type, "ALL"):
                if covered:
                    result.entity[key].tp += 1
                else:
                    result.entity[key].fn += 1
            if not covered:
                left = max(0, span.start - context_chars)
                result.misses.append(
                    Miss(
                        record.id,
                        span.phi_type,
                        span.label,
                        span.start,
                        span.end,
                        record.text[span.start : span.end],
                        record.text[left : span.end + context_chars],
                    )
                )
        for pred in predicted:
            if _overlaps(pred.start, pred.end, ignored) and not _overlaps(
                pred.start, pred.end, spans
            ):
                continue
            if not _overlaps(pred.start, pred.end, spans):
                result.entity[pred.phi_type].fp += 1
                result.entity["ALL"].fp += 1
    return result


def gold_span(start: int, end: int, label: str, hipaa: str | None = None) -> GoldSpan:
    phi_type = hipaa if hipaa in PHI_TYPES else coarse_type(label)
    return GoldSpan(start, end, phi_type, label)
