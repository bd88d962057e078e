"""Re-publishing the bundled PHI model keeps its calibration only for the same weights."""

from dataclasses import replace

import pytest

pytest.importorskip("torch")  # publish_phi imports the training recipe

from onnx_models.recipes.publish_phi import carried_calibration  # noqa: E402
from onnx_models.registry import read_manifest, write_manifest  # noqa: E402
from tests.onnx_models.lookup_model import build_lookup_registry  # noqa: E402


@pytest.fixture
def bundled(tmp_path):
    """A bundled folder whose int8 weights were calibrated: thresholds and entity_mass."""
    directory = build_lookup_registry(tmp_path)
    manifest = read_manifest(directory)
    calibrated = replace(
        manifest, variants={"int8": "model.onnx"}, thresholds={"NAME": 0.02}, entity_mass=0.02
    )
    return directory, write_manifest(directory, calibrated)


def test_same_weights_keep_the_calibration(bundled):
    directory, manifest = bundled
    full = replace(manifest, thresholds={}, entity_mass=None)  # a fresh export's manifest
    assert carried_calibration(full, directory) == {
        "thresholds": {"NAME": 0.02},
        "entity_mass": 0.02,
    }


def test_new_weights_drop_it(bundled, capsys):
    directory, manifest = bundled
    retrained = replace(manifest, files={"model.onnx": "0" * 64}, thresholds={}, entity_mass=None)
    assert carried_calibration(retrained, directory) == {}
    assert "new weights" in capsys.readouterr().out


def test_nothing_bundled_yet(bundled, tmp_path):
    _, manifest = bundled
    assert carried_calibration(manifest, tmp_path / "absent") == {}
