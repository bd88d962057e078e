"""Document-level ICD-10-CM coding metrics, as CodiEsp reports them.

- micro P/R/F1 over every (document, code) pair;
- macro P/R/F1: the mean over codes in the gold or the predictions of each
  code's P/R/F1 (a code never predicted has P = 0);
- MAP: the mean, over gold documents, of the average precision of the ranked
  list (suggestions, then candidates under the threshold): precision at each
  relevant rank, summed, over the gold size, as CodiEsp's trec_eval-style
  script computes it; a document without predictions scores 0;
- the same micro figures at the 3-character category level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from transforms.evaluation.gold_formats import GoldFormatError


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float

    @classmethod
    def of(cls, true_positive: int, predicted: int, gold: int) -> PRF:
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(round(precision, 4), round(recall, 4), round(f1, 4))


@dataclass(frozen=True)
class CodingMetrics:
    documents: int
    gold_codes: int
    predicted_codes: int
    micro: PRF
    macro: PRF
    map: float
    category_micro: PRF

    def to_dict(self) -> dict:
        return asdict(self)


def _micro(gold: Mapping[str, set[str]], predicted: Mapping[str, set[str]]) -> PRF:
    tp = sum(len(gold[d] & predicted.get(d, set())) for d in gold)
    return PRF.of(
        tp, sum(len(predicted.get(d, set())) for d in gold), sum(len(g) for g in gold.values())
    )


def average_precision(ranked: Sequence[str], gold: set[str]) -> float:
    if not gold:
        return 0.0
    hits, total = 0, 0.0
    for rank, code in enumerate(dict.fromkeys(ranked), start=1):
        if code in gold:
            hits += 1
            total += hits / rank
    return total / len(gold)


def coding_metrics(
    gold: Mapping[str, set[str]],
    suggested: Mapping[str, Sequence[str]],
    ranked: Mapping[str, Sequence[str]] | None = None,
) -> CodingMetrics:
    """``gold``: codes per document; ``suggested``: each document's suggestions;
    ``ranked``: the ranked list MAP reads, best first (the suggestions, then any
    lower candidates; the suggestions where None). Only documents in ``gold``
    count; a prediction for another is ignored."""
    ranked = suggested if ranked is None else ranked
    predicted = {d: set(suggested.get(d, ())) for d in gold}
    labels = sorted(
        {c for codes in gold.values() for c in codes} | set().union(*predicted.values())
    )
    per_code = []
    for code in labels:
        tp = sum(code in gold[d] and code in predicted[d] for d in gold)
        per_code.append(
            PRF.of(
                tp,
                sum(code in predicted[d] for d in gold),
                sum(code in gold[d] for d in gold),
            )
        )
    count = len(per_code) or 1
    macro = PRF(
        round(sum(p.precision for p in per_code) / count, 4),
        round(sum(p.recall for p in per_code) / count, 4),
        round(sum(p.f1 for p in per_code) / count, 4),
    )
    map_score = sum(average_precision(ranked.get(d, ()), gold[d]) for d in gold) / (len(gold) or 1)
    return CodingMetrics(
        documents=len(gold),
        gold_codes=sum(len(g) for g in gold.values()),
        predicted_codes=sum(len(p) for p in predicted.values()),
        micro=_micro(gold, predicted),
        macro=macro,
        map=round(map_score, 4),
        category_micro=_micro(
            {d: {c[:3] for c in codes} for d, codes in gold.items()},
            {d: {c[:3] for c in codes} for d, codes in predicted.items()},
        ),
    )


def read_code_gold(path: Path, field: str = "codes_dx") -> dict[str, set[str]]:
    """Gold codes per document from JSONL (``id``, ``codes_dx``: CodiEsp's schema);
    a bad line stops the evaluation with a message naming the file and line."""
    gold: dict[str, set[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GoldFormatError(f"gold file {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            document, codes = str(record["id"]), record[field]
        except (ValueError, KeyError, TypeError) as exc:
            raise GoldFormatError(
                f"{path} line {number}: expected an object with id and {field} ({exc})"
            ) from None
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise GoldFormatError(f"{path} line {number}: {field} is not a list of codes")
        if document in gold:
            raise GoldFormatError(f"{path} line {number}: id {document} appears twice")
        gold[document] = {c.strip().upper() for c in codes}
    if not gold:
        raise GoldFormatError(f"gold file {path} holds no documents")
    return gold
