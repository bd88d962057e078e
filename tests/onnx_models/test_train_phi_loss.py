"""The PHI-weighted loss of the PHI recipe. Needs the train extra."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.export
torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from onnx_models.recipes.token_training import IGNORE, Batch  # noqa: E402
from onnx_models.recipes.train_phi import phi_weighted_loss  # noqa: E402


def _batch() -> tuple[torch.Tensor, Batch]:
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 0.5, 0.0], [1.0, 1.0, 1.0]]])
    labels = torch.tensor([[0, 1, IGNORE]])
    return logits, Batch(
        ids=labels.clamp(min=0), mask=torch.ones_like(labels), labels=labels, allowed=None
    )


def test_weight_one_is_plain_cross_entropy_over_scored_tokens():
    logits, batch = _batch()
    plain = torch.nn.functional.cross_entropy(logits[0, :2], batch.labels[0, :2])
    assert torch.isclose(phi_weighted_loss(1.0)(logits, batch), plain)


def test_phi_tokens_count_as_many_times_as_their_weight():
    logits, batch = _batch()
    per_token = torch.nn.functional.cross_entropy(
        logits[0, :2], batch.labels[0, :2], reduction="none"
    )
    expected = (per_token[0] + 3 * per_token[1]) / 4
    assert torch.isclose(phi_weighted_loss(3.0)(logits, batch), expected)
    # the PHI token is the harder one here, so weighting it raises the loss
    assert phi_weighted_loss(3.0)(logits, batch) > phi_weighted_loss(1.0)(logits, batch)
