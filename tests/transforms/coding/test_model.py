"""The coder's trained parts: fitting, saving byte for byte, refusing an altered file."""

import gzip
import shutil

import numpy as np
import pytest

from transforms.coding import model as coder_model
from transforms.coding.codeset import CodeSetError
from transforms.coding.model import CoderModel, bundled_coder_model
from transforms.coding.pair_models import fit_logistic, interaction_names, with_interactions


def test_logistic_regression_recovers_a_known_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3)).astype(np.float32)
    y = (x[:, 0] - 2 * x[:, 1] > 0).astype(np.float64)
    mean, scale, weights, bias = fit_logistic(x, y)
    z = ((x - mean) / scale) @ weights + bias
    assert ((z > 0) == (y > 0)).mean() > 0.97
    assert weights[0] > 0 > weights[1] and abs(weights[2]) < 0.2 * abs(weights[1])


def test_interactions_are_products_of_two_features_named_in_order():
    x = np.array([[1.0, 2.0, 3.0]])
    assert with_interactions(x).tolist() == [[1, 2, 3, 1, 2, 3, 4, 6, 9]]
    assert interaction_names(["a", "b", "c"])[3:] == ["a*a", "a*b", "a*c", "b*b", "b*c", "c*c"]


def test_the_bundled_model_round_trips_and_saves_the_same_bytes(tmp_path):
    model = bundled_coder_model()
    again = CoderModel.from_dict(model.to_dict())
    assert again.to_dict() == model.to_dict()
    model.save(tmp_path / "a.json.gz")
    again.save(tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()
    assert 0 < model.threshold < 1 and model.lexicon.support


def test_the_bundled_lexicon_keeps_its_phrase_keys_apart():
    lexicon = bundled_coder_model().lexicon
    assert lexicon.phrase_keys and lexicon.phrase_keys <= set(lexicon.support)
    assert len(lexicon.phrase_keys) < len(lexicon.support)  # entity surfaces too


def test_an_altered_model_is_refused_naming_the_file(tmp_path, monkeypatch):
    altered = tmp_path / "data"
    shutil.copytree(coder_model.DATA_DIR, altered)
    path = altered / coder_model.MODEL_FILE
    with gzip.open(path, "rt") as handle:
        text = handle.read()
    with gzip.open(path, "wt") as handle:
        handle.write(text.replace('"threshold": ', '"threshold": 0.0', 1)[:-1] + "}")
    monkeypatch.setattr(coder_model, "DATA_DIR", altered)
    bundled_coder_model.cache_clear()
    try:
        with pytest.raises(CodeSetError, match=r"coder_model\.json\.gz has sha256"):
            bundled_coder_model()
        path.unlink()
        with pytest.raises(CodeSetError, match=r"coder_model\.json\.gz is missing"):
            bundled_coder_model()
    finally:
        bundled_coder_model.cache_clear()


def test_a_model_trained_on_other_features_is_refused():
    data = bundled_coder_model().to_dict()
    data["feature_names"] = data["feature_names"][:-1]
    with pytest.raises(CodeSetError, match="trained on features"):
        CoderModel.from_dict(data)
