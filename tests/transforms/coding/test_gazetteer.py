"""Coder mentions: known phrases outside PROBLEM entities, within a sentence."""

from transforms.coding.features import Lexicon, surface_key
from transforms.coding.gazetteer import lexicon_spans, phrase_spans
from transforms.core.entities import ClinicalEntity

LEXICON = Lexicon(
    support={
        surface_key("fever"): {"R50.9": 9},
        surface_key("abdominal pain"): {"R10.9": 5},
        surface_key("pain"): {"R52": 7},
        surface_key("rare thing"): {"R69": 1},
        surface_key("no codes"): {},
    },
    surface_documents={
        surface_key("fever"): 9,
        surface_key("abdominal pain"): 5,
        surface_key("pain"): 7,
        surface_key("rare thing"): 1,
        surface_key("no codes"): 4,
    },
)


def spans(text, entities=()):
    found = lexicon_spans(text, entities, LEXICON, min_documents=3)
    return [text[start:end] for start, end in found]


def test_the_longest_known_phrase_wins_and_known_keys_only():
    assert spans("Fever and abdominal pain, a rare thing, no codes.") == ["Fever", "abdominal pain"]


def test_phrases_stay_inside_a_sentence_and_outside_entities():
    assert spans("Abdominal. Pain today.") == ["Pain"]  # not "Abdominal. Pain"
    text = "Fever with pain."
    entity = ClinicalEntity(0, 5, "PROBLEM", 0.9, "m:1")
    assert spans(text, [entity]) == ["pain"]
    drug = ClinicalEntity(0, 5, "DRUG", 0.9, "m:1")  # only problems hide a phrase
    assert spans(text, [drug]) == ["Fever", "pain"]


def test_every_phrase_of_each_word_is_listed_longest_first():
    text = "Heavy smoker, the pallor."
    found = [[text[s:e] for s, e in starting] for starting in phrase_spans(text, [])]
    # "the" counts for nothing: no phrase starts or ends on it, and "smoker, the
    # pallor" would cross a break.
    assert found == [["Heavy smoker", "Heavy"], ["smoker"], [], ["pallor"]]
    entity = ClinicalEntity(6, 12, "PROBLEM", 0.9, "m:1")
    found = [[text[s:e] for s, e in starting] for starting in phrase_spans(text, [entity])]
    assert found == [["Heavy"], [], [], ["pallor"]]
