"""Candidates and features for one mention: phrase keys, sentence bounds."""

from hypothesis import given
from hypothesis import strategies as st

from transforms.coding.codeset import bundled_code_set
from transforms.coding.features import (
    _SENTENCE_END,
    LEXICAL_FEATURE_NAMES,
    FeatureBuilder,
    Lexicon,
    MentionVectors,
    mention_of,
    sentence_bounds,
    surface_key,
)
from transforms.coding.lexical import bundled_lexical_index
from transforms.core.entities import ClinicalEntity

TEXT = "Heavy smoker with a kidney stone."


def candidates(lexicon, surface):
    builder = FeatureBuilder(
        index=bundled_lexical_index(),
        code_set=bundled_code_set(),
        lexicon=lexicon,
        dense=None,
        candidates_per_query=10,
        dense_candidates_per_query=0,
        window_words=4,
    )
    start = TEXT.index(surface)
    entity = ClinicalEntity(start, start + len(surface), "PROBLEM", 0.0, "icd10cm_lexicon:1")
    found = builder.candidates(mention_of(TEXT, 0, entity, 4), entity, MentionVectors({}, {}))
    columns = {name: found.matrix[:, n] for n, name in enumerate(LEXICAL_FEATURE_NAMES)}
    return found.codes, columns


def test_a_phrase_key_proposes_its_linked_codes_and_searches_no_titles():
    key = surface_key("smoker")
    support = {key: {"F17.210": 5}}
    as_phrase = Lexicon(support, {key: 8}, {"F17.210": 20}, phrase_keys=frozenset({key}))
    codes, column = candidates(as_phrase, "smoker")
    # The linked code and the plain codes of its category and subcategory.
    assert "F17.210" in codes and set(codes) <= {
        "F17.210",
        *bundled_code_set().defaults_for("F17.210"),
    }
    assert not column["bm25_surface"].any() and not column["bm25_window"].any()
    # The same key learnt from an entity's surface also searches the titles.
    as_entity = Lexicon(support, {key: 8}, {"F17.210": 20})
    entity_codes, entity_column = candidates(as_entity, "smoker")
    assert set(codes) < set(entity_codes) and entity_column["bm25_surface"].any()


def bounded_search(text, start, end):
    """What sentence_bounds replaces: a search from the note's start to ``start``
    for the last sentence end, and one from ``end`` for the next."""
    begin = 0
    for match in _SENTENCE_END.finditer(text, 0, start):
        begin = match.end()
    found = _SENTENCE_END.search(text, end)
    return begin, found.start() if found else len(text)


@given(st.text(alphabet="ab .!?;\n\t", max_size=40), st.data())
def test_sentence_bounds_equal_a_search_bounded_at_the_mention(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert sentence_bounds(text, start, end) == bounded_search(text, start, end)
