"""The bundled sentence encoder: unit vectors, the same vectors for the same texts,
and meaning rather than spelling (sentences written for these tests)."""

import numpy as np
import pytest

from onnx_models.registry import ModelRegistryError, load_bundle
from onnx_models.runtime.encoder import SentenceEncoder


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder(load_bundle("sentence_minilm", task="feature-extraction"))


def test_vectors_are_unit_length_and_repeat_byte_for_byte(encoder):
    texts = ["heart attack", "a fractured right femur after a fall", "sugar diabetes", ""]
    first, second = encoder.embed(texts), encoder.embed(list(texts))
    assert first.shape == (4, 384) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first[:3], axis=1), 1.0, atol=1e-5)
    assert first.tobytes() == second.tobytes()


def test_a_synonym_sharing_no_word_is_nearer_than_another_condition(encoder):
    breathless, dyspnea, fracture, stone, calculus, transplant = encoder.embed(
        [
            "shortness of breath",
            "dyspnea",
            "fracture of femur",
            "kidney stone",
            "calculus of kidney",
            "kidney transplant status",
        ]
    )
    assert breathless @ dyspnea > breathless @ fracture + 0.1
    # A general encoder, not a clinical one: a shared word weighs a lot (the card's
    # limits), but the synonym still wins here.
    assert stone @ calculus > stone @ transplant


def test_long_text_is_cut_to_the_models_length(encoder):
    long_text = " ".join(["pain"] * 400)
    vector = encoder.embed([long_text])
    assert np.isfinite(vector).all()


def test_a_token_classifier_is_not_an_encoder():
    with pytest.raises(ModelRegistryError, match="not a sentence encoder"):
        SentenceEncoder(load_bundle("clinical_ner_minilm"))
