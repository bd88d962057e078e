"""Score predicted clinical entities against gold spans: exact and overlap P/R/F1 per label.

Pure. Gold is the ``../shared/data/ner`` JSONL schema (``{"id", "text",
"spans": [{"start", "end", "label"}]}``); gold labels are mapped to ours
(``Disease`` -> ``PROBLEM``, ``Chemical`` -> ``DRUG`` by default) and gold
labels without a mapping are not scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.evaluation.gold_formats import parse_jsonl

DEFAULT_LABEL_MAP = {"Disease": "PROBLEM", "Chemical": "DRUG"}


@dataclass(frozen=True, slots=True)
class LabelledSpan:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class EntityGold:
    id: str
    spans: tuple[LabelledSpan, ...]


def read_entity_gold(path: Path, label_map: Mapping[str, str]) -> list[EntityGold]:
    def record(data: Any) -> EntityGold:
        spans = tuple(
            LabelledSpan(int(s["start"]), int(s["end"]), label_map[s["label"]])
            for s in data["spans"]
            if s["label"] in label_map
        )
        return EntityGold(str(data["id"]), spans)

    return list(parse_jsonl(path, record))


def _prf(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> dict[str, float | int]:
    precision = tp_pred / n_pred if n_pred else 0.0
    recall = tp_gold / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": n_gold,
    }


def _overlaps(a: LabelledSpan, b: LabelledSpan) -> bool:
    return a.label == b.label and a.start < b.end and b.start < a.end


def evaluate_entities(
    gold: Iterable[EntityGold], predictions: Mapping[str, Iterable[LabelledSpan]]
) -> dict[str, dict]:
    """``{"exact": {label: prf}, "overlap": {label: prf}}`` over the gold records' ids.

    Exact: same offsets and label. Overlap: a prediction counts as right if it
    overlaps a gold span of its label, and a gold span as found if some
    prediction of its label overlaps it. Predictions for ids the gold lacks are
    ignored (the run may hold other notes)."""
    counts: dict[str, dict[str, list[int]]] = {}

    def tally(label: str) -> dict[str, list[int]]:
        # [right predictions, predictions, found gold, gold] per match kind
        return counts.setdefault(label, {"exact": [0, 0, 0, 0], "overlap": [0, 0, 0, 0]})

    for record in gold:
        found = set(predictions.get(record.id, ()))
        expected = set(record.spans)
        for label in {s.label for s in found | expected}:
            f = {s for s in found if s.label == label}
            g = {s for s in expected if s.label == label}
            row = tally(label)
            exact = len(f & g)
            right = sum(1 for p in f if any(_overlaps(p, q) for q in g))
            hit = sum(1 for q in g if any(_overlaps(p, q) for p in f))
            for kind, added in (
                ("exact", (exact, len(f), exact, len(g))),
                ("overlap", (right, len(f), hit, len(g))),
            ):
                row[kind] = [a + b for a, b in zip(row[kind], added, strict=True)]
    return {
        kind: {label: _prf(*counts[label][kind]) for label in sorted(counts)}
        for kind in ("exact", "overlap")
    }
