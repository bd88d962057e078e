"""Lexical candidates: BM25 over the bundled code set's terms."""

from transforms.coding.codeset import bundled_code_set
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
