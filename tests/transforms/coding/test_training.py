"""Training on documents coded as a whole: the lexicon's links, folds and threshold."""

from transforms.coding.codeset import bundled_code_set
from transforms.coding.features import FeatureBuilder, Lexicon, surface_key
from transforms.coding.lexical import bundled_lexical_index
from transforms.coding.training import (
    FOLDS,
    MIN_PHRASE_DOCUMENTS,
    CodedDocument,
    best_threshold,
    build_lexicon,
    fold_of,
)
from transforms.core.entities import ClinicalEntity


def document(doc_id, text, surfaces, gold):
    found = []
    for surface in surfaces:
        start = text.index(surface)
        found.append(ClinicalEntity(start, start + len(surface), "PROBLEM", 0.9, "test:1"))
    return CodedDocument(doc_id, text, tuple(found), frozenset(gold))


def builder():
    return FeatureBuilder(
        index=bundled_lexical_index(),
        code_set=bundled_code_set(),
        lexicon=Lexicon(),
        dense=None,
        candidates_per_query=20,
        dense_candidates_per_query=0,
        window_words=4,
    )


def test_the_lexicon_links_named_and_consistently_co_occurring_codes_only():
    documents = [
        # "renoureteral crisis" names no code's words, but comes with N23 every time.
        document(
            "a",
            "Renoureteral crisis and diabetes.",
            ["Renoureteral crisis", "diabetes"],
            ["N23", "E11.9", "I10"],
        ),
        document("b", "Renoureteral crisis.", ["Renoureteral crisis"], ["N23"]),
        document("c", "Diabetes and fever.", ["Diabetes", "fever"], ["E11.9", "I10", "R50.9"]),
        document("d", "Diabetes.", ["Diabetes"], ["E11.9"]),
        document("f", "Diabetes.", ["Diabetes"], ["E11.9"]),
        document("e", "Diabetes.", ["Diabetes"], ["E11.9", "E11"]),  # E11: not billable
    ]
    lexicon = build_lexicon(documents, builder(), bundled_code_set())
    crisis, diabetes = surface_key("renoureteral crisis"), surface_key("diabetes")
    assert lexicon.codes_for(crisis) == {"N23": 2}
    # I10 comes with diabetes in two of five documents: not linked, a co-occurrence.
    assert lexicon.codes_for(diabetes) == {"E11.9": 5}
    assert lexicon.surface_documents[diabetes] == 5
    assert lexicon.code_documents["E11.9"] == 5 and "E11" not in lexicon.code_documents


def test_phrases_outside_entities_are_linked_by_consistent_co_occurrence_only():
    smokers = [
        document(f"s{n}", "Heavy smoker, on levofloxacin.", [], ["F17.210"])
        for n in range(MIN_PHRASE_DOCUMENTS)
    ]
    others = [document(f"o{n}", "Smoker with cough.", ["cough"], ["R05.9"]) for n in range(4)] + [
        # "chronic pallor" is in two documents only, with R23.1 in both: too few.
        document("r1", "Chronic pallor.", [], ["R23.1"]),
        document("r2", "Chronic pallor.", [], ["R23.1"]),
    ]
    lexicon = build_lexicon(smokers + others, builder(), bundled_code_set())
    assert lexicon.codes_for(surface_key("heavy smoker")) == {"F17.210": 3}
    # "smoker" is in seven documents: F17.210 comes in three, under half; R05.9,
    # J20.9 and J44.9 in four, two and two.
    assert lexicon.surface_documents[surface_key("smoker")] == 7
    assert lexicon.codes_for(surface_key("smoker")) == {"R05.9": 4}
    assert not lexicon.codes_for(surface_key("chronic pallor"))
    # A function word ("with") or a word that names no code ("levofloxacin") keeps
    # a phrase out, however consistent.
    assert surface_key("smoker with") not in lexicon.surface_documents
    assert surface_key("levofloxacin") not in lexicon.surface_documents
    # An entity's surface keeps the entity rules: "cough" is no phrase key.
    assert lexicon.codes_for(surface_key("cough")) == {"R05.9": 4}
    assert lexicon.phrase_keys == {surface_key(p) for p in ("heavy smoker", "heavy", "smoker")}


def test_a_phrase_the_trainer_refuses_is_no_key():
    negated = [document(f"n{n}", "No fever.", [], ["R50.9"]) for n in range(4)]
    refused = build_lexicon(
        negated, builder(), bundled_code_set(), phrase_allowed=lambda p: "No" not in p
    )
    assert refused.codes_for(surface_key("fever")) == {"R50.9": 4}
    assert surface_key("no fever") not in refused.surface_documents
    assert not build_lexicon(negated, builder(), bundled_code_set()).codes_for(
        surface_key("no fever")
    )  # "no" is a function word anyway
    # A phrase the function-word and vocabulary checks let through is kept out by
    # the trainer's own refusal alone.
    smokers = [document(f"s{n}", "Heavy smoker.", [], ["F17.210"]) for n in range(4)]
    kept = build_lexicon(smokers, builder(), bundled_code_set())
    assert kept.codes_for(surface_key("heavy smoker")) == {"F17.210": 4}
    vetted = build_lexicon(
        smokers, builder(), bundled_code_set(), phrase_allowed=lambda p: "Heavy" not in p
    )
    assert surface_key("heavy smoker") not in vetted.surface_documents
    assert vetted.phrase_keys == {surface_key("smoker")}


def test_folds_are_stable_and_spread():
    ids = [f"doc-{n}" for n in range(500)]
    folds = [fold_of(i) for i in ids]
    assert folds == [fold_of(i) for i in ids]
    assert all(60 <= folds.count(f) <= 140 for f in range(FOLDS))


def test_the_threshold_is_the_best_micro_f1_cut():
    gold = {"a": frozenset({"X", "Y"}), "b": frozenset({"Z"})}
    scored = {("a", "X"): 0.9, ("a", "Q"): 0.8, ("b", "Z"): 0.7, ("a", "Y"): 0.2, ("b", "W"): 0.1}
    threshold, f1 = best_threshold(scored, gold)
    # Cutting at 0.7: 2 right of 3 predicted, 3 gold -> F1 2/3; at 0.2: 3 of 4 -> 6/7.
    assert threshold == 0.2 and round(f1, 4) == round(6 / 7, 4)
