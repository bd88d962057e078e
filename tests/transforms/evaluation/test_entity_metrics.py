"""Exact and overlap entity scoring, by hand-counted examples."""

import json

import pytest

from transforms.evaluation.entity_metrics import (
    EntityGold,
    LabelledSpan,
    evaluate_entities,
    read_entity_gold,
)
from transforms.evaluation.gold_formats import GoldFormatError

P = "PROBLEM"
D = "DRUG"


def test_exact_and_overlap_counts():
    gold = [
        EntityGold("a", (LabelledSpan(0, 6, P), LabelledSpan(10, 17, D))),
        EntityGold("b", (LabelledSpan(0, 20, P),)),
        EntityGold("c", ()),
    ]
    predictions = {
        "a": [LabelledSpan(0, 6, P), LabelledSpan(10, 17, P)],  # right; wrong label
        "b": [LabelledSpan(7, 13, P), LabelledSpan(14, 18, P)],  # two inside one gold
        "c": [LabelledSpan(0, 3, D)],  # gold has none
        "unknown": [LabelledSpan(0, 3, P)],  # not in the gold: ignored
    }
    scores = evaluate_entities(gold, predictions)
    assert scores["exact"][P] == {"precision": 0.25, "recall": 0.5, "f1": 0.3333, "support": 2}
    assert scores["exact"][D] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    # Overlap: 3 of 4 PROBLEM predictions touch a PROBLEM gold; both golds are touched.
    assert scores["overlap"][P] == {"precision": 0.75, "recall": 1.0, "f1": 0.8571, "support": 2}
    assert scores["overlap"][D]["recall"] == 0.0


def test_gold_labels_are_mapped_and_unmapped_ones_dropped(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": 7,
                "text": "x",
                "spans": [
                    {"start": 0, "end": 1, "label": "Disease"},
                    {"start": 0, "end": 1, "label": "Gene"},
                ],
            }
        )
        + "\n\n"
    )
    [record] = read_entity_gold(path, {"Disease": P})
    assert record == EntityGold("7", (LabelledSpan(0, 1, P),))


def test_a_bad_gold_line_is_named(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "text": "x", "spans": []}\n{"id": "b"}\n')
    with pytest.raises(GoldFormatError, match=r"gold.jsonl line 2: KeyError"):
        read_entity_gold(path, {})
