"""Coding metrics, checked against figures worked out by hand."""

import pytest

from transforms.evaluation.code_metrics import average_precision, coding_metrics


def test_average_precision_as_codiesp_counts_it():
    # Relevant at ranks 1 and 3 of gold size 3: (1/1 + 2/3) / 3.
    assert average_precision(["A", "x", "B", "y"], {"A", "B", "C"}) == pytest.approx(5 / 9)
    assert average_precision([], {"A"}) == 0.0
    assert average_precision(["A", "A"], {"A"}) == 1.0  # a repeat counts once


def test_micro_macro_map_and_category_figures():
    gold = {"d1": {"E11.22", "I10"}, "d2": {"R52"}, "d3": {"J18.9"}}
    suggested = {"d1": ["E11.9", "I10"], "d2": ["R52", "R50.9"], "other": ["X"]}
    ranked = {"d1": ["E11.9", "I10", "E11.22"], "d2": ["R52", "R50.9"]}
    m = coding_metrics(gold, suggested, ranked)
    assert (m.documents, m.gold_codes, m.predicted_codes) == (3, 4, 4)
    # 2 right of 4 suggested, 4 gold.
    assert (m.micro.precision, m.micro.recall, m.micro.f1) == (0.5, 0.5, 0.5)
    # Codes E11.22, E11.9, I10, J18.9, R50.9, R52: F1 0, 0, 1, 0, 0, 1.
    assert m.macro.f1 == round(2 / 6, 4)
    # d1: ranks 2 and 3 of gold 2 -> (1/2 + 2/3) / 2; d2: 1; d3: 0.
    assert m.map == round(((1 / 2 + 2 / 3) / 2 + 1 + 0) / 3, 4)
    # Categories: d1 {E11, I10} all found; d2 R52 found with one extra; d3 missed.
    assert (m.category_micro.precision, m.category_micro.recall) == (0.75, 0.75)


def test_without_a_ranked_list_map_reads_the_suggestions():
    gold = {"d": {"A", "B"}}
    assert coding_metrics(gold, {"d": ["B", "A"]}).map == 1.0
