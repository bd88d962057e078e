import numpy as np

from onnx_models.runtime.decode import (
    Entity,
    Word,
    decode_entities,
    split_label,
    trim_entity,
    words_from_tokens,
)


def w(start, label, score=0.9):
    return Word(start, start + 3, label, score)


def test_split_label():
    assert split_label("B-NAME", "BIO") == ("B", "NAME")
    assert split_label("O", "BIO") == ("O", None)
    assert split_label("NAME", "IO") == ("I", "NAME")
    assert split_label("S-DATE", "BIOES") == ("S", "DATE")


def test_bio_decoding_is_lenient_and_splits_on_b():
    words = [w(0, "B-NAME"), w(4, "I-NAME"), w(8, "B-NAME"), w(12, "O"), w(16, "I-DATE")]
    entities = decode_entities(words, "BIO")
    assert [(e.start, e.end, e.label) for e in entities] == [
        (0, 7, "NAME"),
        (8, 11, "NAME"),
        (16, 19, "DATE"),
    ]


def test_bioes_decoding():
    words = [w(0, "B-NAME"), w(4, "E-NAME"), w(8, "S-NAME"), w(12, "S-DATE")]
    assert [(e.start, e.end) for e in decode_entities(words, "BIOES")] == [
        (0, 7),
        (8, 11),
        (12, 15),
    ]


def test_io_decoding_merges_runs():
    words = [w(0, "NAME"), w(4, "NAME"), w(8, "O"), w(12, "DATE")]
    assert [(e.start, e.end, e.label) for e in decode_entities(words, "IO")] == [
        (0, 7, "NAME"),
        (12, 15, "DATE"),
    ]


def test_subwords_take_the_first_subtokens_label():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.9, 0.1]])
    words = words_from_tokens(probs, [(0, 3), (3, 5), (6, 8)], [0, 0, 1], {0: "O", 1: "I-NAME"})
    assert words == [Word(0, 5, "I-NAME", 0.9), Word(6, 8, "O", 0.9)]


def test_entity_mass_makes_an_entity_of_a_word_that_leans_to_o():
    # Word 0: O 0.55, but NAME labels 0.45 together; word 1: O 0.9; word 2: a NAME already.
    probs = np.array([[0.55, 0.30, 0.15], [0.9, 0.05, 0.05], [0.2, 0.7, 0.1]])
    labels = {0: "O", 1: "B-NAME", 2: "I-NAME"}
    spans, word_ids = [(0, 3), (4, 7), (8, 11)], [0, 1, 2]
    plain = words_from_tokens(probs, spans, word_ids, labels)
    assert [x.label for x in plain] == ["O", "O", "B-NAME"]
    lenient = words_from_tokens(probs, spans, word_ids, labels, entity_mass=0.4)
    assert [(x.label, round(x.score, 2)) for x in lenient] == [
        ("B-NAME", 0.45),
        ("O", 0.9),
        ("B-NAME", 0.7),
    ]
    assert words_from_tokens(probs, spans, word_ids, labels, entity_mass=0.5) == plain


def test_edges_lose_brackets_and_commas_but_names_keep_their_marks():
    text = "Whitlock (M), Robert L., O'Brien-Smith"
    assert trim_entity(Entity(0, 10, "NAME", 1.0), text) == Entity(0, 8, "NAME", 1.0)
    assert trim_entity(Entity(12, 23, "NAME", 1.0), text) == Entity(14, 23, "NAME", 1.0)
    assert trim_entity(Entity(25, 38, "NAME", 1.0), text) == Entity(25, 38, "NAME", 1.0)
    assert trim_entity(Entity(9, 10, "NAME", 1.0), text) is None
