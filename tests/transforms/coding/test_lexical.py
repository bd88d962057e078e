"""Lexical candidates: BM25 over the bundled code set's terms."""

import shutil

import numpy as np
import pytest

from transforms.coding import codeset, lexical
from transforms.coding.codeset import CodeSetError, bundled_code_set
from transforms.coding.lexical import LexicalIndex, bundled_lexical_index, stems


def test_stems_fold_stem_and_drop_function_words():
    assert stems("Type 2 diabetes, with Diabetic CKD") == ["2", "diabet", "with", "diabet", "ckd"]
    assert stems("Fractures of the neck of femur") == ["fractur", "neck", "femur"]
    assert stems("the of and") == []


def test_a_mention_finds_its_code_among_the_first():
    index = bundled_lexical_index()

    def codes(text, k=5):
        return [c.code for c in index.search(text, k=k)]

    assert codes("type 2 diabetes with chronic kidney disease")[0] == "E11.22"
    assert "N39.0" in codes("urinary tract infection")
    assert codes("acute exacerbation of COPD", 3)[0] == "J44.1"  # an inclusion term
    assert "D64.9" in codes("anemia", 3)
    assert "R31.9" in codes("hematuria", 3)


def test_results_are_ranked_and_every_code_is_billable():
    index = bundled_lexical_index()
    found = index.search("fracture of neck of right femur", k=50)
    scores = [c.score for c in found]
    assert scores == sorted(scores, reverse=True) and len(found) == 50
    assert all(c.code in bundled_code_set() for c in found)
    assert all(c.code.startswith("S72.") for c in found[:10])
    assert index.search("zzqx", k=5) == [] and index.search("", k=5) == []


def test_ties_are_broken_by_code_and_weights_count():
    index = LexicalIndex(["B1", "A1", "C1"], [{"pain": 1.0}, {"pain": 1.0}, {"pain": 0.5}])
    assert [c.code for c in index.search("pain")] == ["A1", "B1", "C1"]


def test_sorted_and_dense_summing_give_the_same_scores(monkeypatch):
    # A short query sorts its postings, a long one sums over a vector of every code:
    # the two must agree to the bit, or a run's codes would depend on query length.
    index = bundled_lexical_index()
    query = "chronic pain of the right lower leg with fever and fracture"
    monkeypatch.setattr(lexical, "_SORT_SHARE", 0)  # always sort
    sorted_numbers, sorted_scores = index.scores(query)
    monkeypatch.setattr(lexical, "_SORT_SHARE", 10**9)  # always the dense vector
    dense_numbers, dense_scores = index.scores(query)
    assert len(dense_numbers) > 1000
    assert np.array_equal(sorted_numbers, dense_numbers)
    assert np.array_equal(sorted_scores, dense_scores)


def test_a_repeated_query_is_answered_from_the_cache_in_any_word_order():
    documents = [{"pain": 1.0}, {"leg": 1.0}, {"pain": 0.5, "leg": 1.0}]
    index = LexicalIndex(["A1", "B1", "C1"], documents)
    first = index.top("leg pain", 2)
    computed = []
    original = index._top
    index._top = lambda query, k: computed.append(query) or original(query, k)
    assert index.top("pain, leg", 2) == first and computed == []
    assert index.top("leg", 2) != first and computed == [("leg",)]
    assert [index.codes[n] for n, _ in first] == ["C1", "A1"]


def test_the_shipped_index_is_the_code_sets_own():
    # A stale index (the code set or lexical.py changed, the file not rebuilt) fails here.
    fresh = LexicalIndex.from_code_set(bundled_code_set())
    shipped = bundled_lexical_index()
    assert shipped.codes == fresh.codes
    assert shipped._postings.keys() == fresh._postings.keys()
    for stem, (numbers, weights) in fresh._postings.items():
        assert np.array_equal(shipped._postings[stem][0], numbers)
        assert np.array_equal(shipped._postings[stem][1], weights)


def test_an_altered_index_is_refused_naming_the_file(tmp_path, monkeypatch):
    altered = tmp_path / "data"
    shutil.copytree(codeset.DATA_DIR, altered)
    (altered / "lexical_index.npz").write_bytes(b"not an index")
    monkeypatch.setattr(lexical, "DATA_DIR", altered)
    monkeypatch.setattr(codeset, "DATA_DIR", altered)
    bundled_lexical_index.cache_clear()
    try:
        with pytest.raises(CodeSetError, match=r"BM25 index .*lexical_index\.npz has sha256"):
            bundled_lexical_index()
    finally:
        bundled_lexical_index.cache_clear()
