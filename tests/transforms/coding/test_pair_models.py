"""The reranker's pair models: logistic and ONNX trees, saved and read back."""

import numpy as np
import pytest

from transforms.coding.pair_models import (
    LogisticPairModel,
    PairModelError,
    TreePairModel,
    pair_model_from_dict,
)


def rule_rows(seed: int = 0, rows: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Labels from a rule a tree learns and a line cannot: both features high."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, 3)).astype(np.float32)
    return x, ((x[:, 0] > 0.5) & (x[:, 1] > 0.5)).astype(np.float64)


def test_the_logistic_model_round_trips_and_scores_an_empty_matrix():
    x, y = rule_rows()
    model = LogisticPairModel.fit(x, y)
    again = pair_model_from_dict(model.to_dict())
    assert again.to_dict() == model.to_dict()
    assert np.allclose(again.probability(x[:50]), model.probability(x[:50]), atol=1e-5)
    assert model.probability(np.zeros((0, 3), np.float32)).shape == (0,)


def test_onnx_trees_score_as_scikit_learn_does_and_learn_the_rule():
    pytest.importorskip("skl2onnx")
    x, y = rule_rows()
    model = TreePairModel.fit(x, y, {"max_iter": 50})
    test_x, test_y = rule_rows(seed=1, rows=1000)
    p = model.probability(test_x)
    assert p.dtype == np.float64 and p.shape == (1000,)
    assert ((p > 0.5) == (test_y > 0.5)).mean() > 0.97
    # The ONNX graph and the fitted estimator agree: nothing is lost in the export.
    from sklearn.ensemble import HistGradientBoostingClassifier

    reference = HistGradientBoostingClassifier(**model.parameters).fit(x, y)
    assert np.allclose(p, reference.predict_proba(test_x)[:, 1], atol=1e-5)


def test_trees_fit_to_the_same_bytes_and_round_trip():
    pytest.importorskip("skl2onnx")
    x, y = rule_rows()
    first = TreePairModel.fit(x, y, {"max_iter": 20})
    assert TreePairModel.fit(x, y, {"max_iter": 20}).onnx == first.onnx
    again = pair_model_from_dict(first.to_dict())
    assert again.onnx == first.onnx and again.parameters == first.parameters
    assert np.array_equal(again.probability(x[:100]), first.probability(x[:100]))


def test_a_damaged_or_unknown_pair_model_is_refused():
    pytest.importorskip("skl2onnx")
    x, y = rule_rows()
    data = TreePairModel.fit(x, y, {"max_iter": 5}).to_dict()
    with pytest.raises(PairModelError, match="does not match its recorded sha256"):
        pair_model_from_dict({**data, "onnx_sha256": "0" * 64})
    garbage = TreePairModel(b"not an onnx graph")
    with pytest.raises(PairModelError, match="cannot be loaded"):
        garbage.probability(x[:2])
    with pytest.raises(PairModelError, match="unknown pair model kind 'forest'"):
        pair_model_from_dict({"kind": "forest"})
