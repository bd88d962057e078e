"""The calibration windows the static int8 recipe feeds onnxruntime are the engine's
windows: framed with the model's special tokens and no longer than its manifest's."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

pytest.importorskip("faker")  # the synthetic corpus generator

from onnx_models.recipes.int8_variants import calibration_feeds  # noqa: E402
from onnx_models.registry import read_manifest  # noqa: E402

BUNDLED = Path(__file__).resolve().parents[2] / "onnx_models" / "deid_phi_minilm"


def test_calibration_feeds_are_framed_windows_of_generated_notes():
    manifest = read_manifest(BUNDLED)
    special = manifest.special_tokens
    feeds = list(itertools.islice(calibration_feeds(BUNDLED, notes=5), 50))
    assert len(feeds) >= 5  # at least one window a note
    for feed in feeds:
        ids = feed["input_ids"][0].tolist()
        assert ids[0] == special.start and ids[-1] == special.end
        assert special.pad not in ids
        assert len(ids) <= manifest.max_length
        assert feed["attention_mask"].tolist() == [[1] * len(ids)]
    # Deterministic: the same notes, the same windows.
    again = list(itertools.islice(calibration_feeds(BUNDLED, notes=5), 50))
    assert all((a["input_ids"] == b["input_ids"]).all() for a, b in zip(feeds, again, strict=True))
