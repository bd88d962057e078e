"""Dense retrieval: the bundled title vectors, exact top-k and what it adds to the
lexical candidates (mentions written for these tests)."""

import numpy as np
import pytest

from transforms.coding.codeset import CodeSetError, bundled_code_set
from transforms.coding.dense import (
    DenseRetriever,
    TitleVectors,
    _top_numbers,
    bundled_dense_retriever,
    bundled_encoder,
)
from transforms.coding.features import (
    FEATURE_NAMES,
    FeatureBuilder,
    Lexicon,
    mention_of,
    surface_key,
)
from transforms.coding.lexical import bundled_lexical_index
from transforms.core.entities import ClinicalEntity


@pytest.fixture(scope="module")
def retriever():
    return bundled_dense_retriever()


@pytest.mark.parametrize("length", [1, 63, 64, 65, 1000, 4099])
@pytest.mark.parametrize("k", [1, 5, 70])
def test_block_top_k_is_the_exact_top_k_ties_to_the_lower_position(length, k):
    rng = np.random.default_rng(length * 100 + k)
    scores = rng.integers(0, 50, size=length).astype(np.float32)  # many ties
    expected = sorted(range(length), key=lambda n: (-scores[n], n))[:k]
    assert _top_numbers(scores[None, :], k)[0].tolist() == expected


def test_block_top_k_keeps_each_rows_own_blocks():
    scores = np.random.default_rng(3).normal(size=(4, 1000)).astype(np.float32)
    found = _top_numbers(scores, 7)
    for row, numbers in zip(scores, found, strict=True):
        assert numbers.tolist() == np.argsort(-row, kind="stable")[:7].tolist()


def test_the_shipped_vectors_are_the_bundled_encoders(retriever):
    code_set = bundled_code_set()
    titles = retriever.titles
    assert titles.encoder_sha256 == bundled_encoder().describe()["sha256"]
    # One row per code but for injury codes' later encounters, which share the first's.
    assert "S72.001A" in titles.row and "S72.001D" not in titles.row
    assert titles.row_of("S72.001D") == titles.row["S72.001A"]
    assert all(code in code_set for code in titles.codes)
    sample = titles.codes[:: len(titles.codes) // 40][:40]
    fresh = retriever.encoder.embed([code_set.entries[c].title for c in sample])
    shipped = titles.vectors[[titles.row[c] for c in sample]]
    # Batched with other titles at build time, and stored as int8: close, not equal.
    assert (fresh * shipped).sum(axis=1).min() > 0.98


def test_the_shortlist_finds_nearly_all_of_the_exact_top_five(retriever):
    phrases = [
        "kidney stone", "sore throat", "heart attack", "sugar", "broken arm", "chest pain",
        "high blood pressure", "bellyache", "trouble sleeping", "feeling down",
        "knee replacement", "shortness of breath", "swelling in legs", "blood clot in lung",
        "skin rash", "urinary tract infection", "acid reflux", "back pain", "low iron",
        "fatty liver", "thyroid nodule", "enlarged prostate", "gout flare", "migraine",
        "stroke",
    ]  # fmt: skip
    vectors = retriever.embed(phrases)
    queries = np.stack([vectors[p] for p in phrases])
    found = retriever.nearest(queries, 5)
    codes = retriever.titles.codes
    exact = [
        {codes[n] for n in numbers}
        for numbers in _top_numbers(queries @ retriever.titles.by_dimension, 5)
    ]
    overlap = sum(len(set(f) & e) for f, e in zip(found, exact, strict=True))
    assert overlap / (5 * len(phrases)) >= 0.95
    # The cosines are exact, not the shortlist's approximations.
    first = found[0]
    np.testing.assert_allclose(
        list(first.values()), retriever.cosines(list(first), queries[:1])[:, 0], rtol=1e-6
    )


def test_title_vectors_save_the_same_bytes_and_load_back(tmp_path):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(5, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    titles = TitleVectors(["A00.0", "A00.1", "A01.0", "B00.0", "C00.0"], vectors, "abc")
    titles.save(tmp_path / "a.npz")
    titles.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = TitleVectors.load(tmp_path / "a.npz")
    assert loaded.codes == titles.codes and loaded.encoder_sha256 == "abc"
    np.testing.assert_allclose(loaded.vectors, vectors, atol=1 / 127)
    np.testing.assert_array_equal(loaded.projection, titles.projection)


def test_vectors_from_another_encoder_are_refused(retriever):
    other = TitleVectors(retriever.titles.codes[:2], retriever.titles.vectors[:2], "0" * 64)
    with pytest.raises(CodeSetError, match="rebuild them with"):
        DenseRetriever(retriever.encoder, other)


def test_a_plain_phrase_finds_its_code(retriever):
    vectors = retriever.embed(["short of breath", "pain in the left knee"])
    breath, knee = retriever.nearest(
        np.stack([vectors["short of breath"], vectors["pain in the left knee"]]), 5
    )
    assert "R06.02" in breath  # Shortness of breath
    assert "M25.562" in knee  # Pain in left knee
    assert list(breath.values()) == sorted(breath.values(), reverse=True)


TEXT = "She was admitted with a kidney stone and a sore throat."


def features_of(retriever, surface, *, lexicon=None, unlinked_only=False):
    builder = FeatureBuilder(
        index=bundled_lexical_index(),
        code_set=bundled_code_set(),
        lexicon=lexicon or Lexicon(),
        dense=retriever,
        candidates_per_query=10,
        dense_candidates_per_query=5,
        window_words=4,
        dense_unlinked_only=unlinked_only,
    )
    start = TEXT.index(surface)
    entity = ClinicalEntity(start, start + len(surface), "PROBLEM", 0.9, "test:1")
    mention = mention_of(TEXT, 0, entity, 4)
    found = builder.candidates(mention, entity, builder.embed([mention]))
    return found, {name: found.matrix[:, n] for n, name in enumerate(FEATURE_NAMES)}


def test_dense_retrieval_adds_candidates_the_lexical_index_cannot_find(retriever):
    _, column = features_of(retriever, "kidney stone")
    dense_only = (column["dense_rank"] > 0) & (column["bm25_surface"] == 0)
    dense_only &= column["bm25_window"] == 0
    assert dense_only.any()
    assert (column["dense_queried"] == 1).all()
    assert (column["dense_surface"] != 0).all()  # every candidate has its cosine


def test_a_surface_the_lexicon_links_is_not_embedded_where_the_model_says_so(retriever):
    linked = Lexicon(support={surface_key("kidney stone"): {"N20.0": 4}})
    found, column = features_of(retriever, "kidney stone", lexicon=linked, unlinked_only=True)
    assert "N20.0" in found.codes
    assert not column["dense_queried"].any() and not column["dense_rank"].any()
    assert not column["dense_surface"].any()
    _, unlinked = features_of(retriever, "sore throat", lexicon=linked, unlinked_only=True)
    assert unlinked["dense_queried"].all() and unlinked["dense_rank"].any()
