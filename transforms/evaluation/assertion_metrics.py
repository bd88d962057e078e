"""Score assertion on gold spans: precision, recall and F1 per flag.

Gold is JSONL, one record a line: ``{"id", "text", "spans": [{"start", "end",
"negated", "temporality": "recent|historical|hypothetical", "experiencer":
"patient|other"}]}``. The asserter runs on the gold spans themselves (no NER), so
the figures measure assertion alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCORED_FLAGS = ("negated", "historical", "hypothetical", "family")
TEMPORALITIES = ("recent", "historical", "hypothetical")
EXPERIENCERS = ("patient", "other")


class AssertionGoldError(ValueError):
    """The gold file is malformed; the message names the file, line and field."""


@dataclass(frozen=True)
class GoldSpan:
    start: int
    end: int
    flags: dict[str, bool]


@dataclass(frozen=True)
class GoldRecord:
    id: str
    text: str
    spans: tuple[GoldSpan, ...]


def _gold_span(raw: Any, where: str, text_length: int) -> GoldSpan:
    if not isinstance(raw, dict):
        raise AssertionGoldError(f"{where}: a span must be an object")
    start, end = raw.get("start"), raw.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= text_length):
        raise AssertionGoldError(f"{where}: start and end must be offsets inside the text")
    temporality = raw.get("temporality", "recent")
    experiencer = raw.get("experiencer", "patient")
    if temporality not in TEMPORALITIES:
        raise AssertionGoldError(f"{where}: temporality must be one of {', '.join(TEMPORALITIES)}")
    if experiencer not in EXPERIENCERS:
        raise AssertionGoldError(f"{where}: experiencer must be one of {', '.join(EXPERIENCERS)}")
    if not isinstance(raw.get("negated", False), bool):
        raise AssertionGoldError(f"{where}: negated must be true or false")
    return GoldSpan(
        start,
        end,
        {
            "negated": raw.get("negated", False),
            "historical": temporality == "historical",
            "hypothetical": temporality == "hypothetical",
            "family": experiencer == "other",
        },
    )


def read_assertion_gold(path: Path) -> list[GoldRecord]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AssertionGoldError(
            f"gold file {path} cannot be read ({type(exc).__name__})"
        ) from None
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionGoldError(f"{where}: not JSON") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
            raise AssertionGoldError(f"{where}: needs an object with a string text")
        spans = raw.get("spans", [])
        if not isinstance(spans, list):
            raise AssertionGoldError(f"{where}: spans must be a list")
        records.append(
            GoldRecord(
                str(raw.get("id", number)),
                raw["text"],
                tuple(
                    _gold_span(s, f"{where} span {i}", len(raw["text"]))
                    for i, s in enumerate(spans)
                ),
            )
        )
    return records


def _scores(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
    }


Asserter = Callable[[str, Sequence[tuple[int, int, str]]], Sequence[Any]]


def evaluate_assertion(records: Sequence[GoldRecord], assert_entities: Asserter) -> dict:
    """Per flag ``{precision, recall, f1, support}``, plus the spans scored and the
    disagreements (ids and offsets only) for review."""
    counts = {flag: [0, 0, 0] for flag in SCORED_FLAGS}  # tp, fp, fn
    errors = []
    spans = 0
    for record in records:
        predicted = assert_entities(
            record.text, [(s.start, s.end, "PROBLEM") for s in record.spans]
        )
        for gold, assertion in zip(record.spans, predicted, strict=True):
            spans += 1
            for flag in SCORED_FLAGS:
                said, truth = bool(getattr(assertion, flag)), gold.flags[flag]
                if said == truth:
                    counts[flag][0] += said
                    continue
                counts[flag][1 if said else 2] += 1
                error = "fp" if said else "fn"
                errors.append({"id": record.id, "start": gold.start, "flag": flag, "error": error})
    metrics: dict[str, Any] = {flag: _scores(*counts[flag]) for flag in SCORED_FLAGS}
    metrics["records"] = len(records)
    metrics["spans"] = spans
    return {"metrics": metrics, "errors": errors}
