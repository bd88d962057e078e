import json

import pytest

from onnx_models.registry import ModelRegistryError, load_bundle
from tests.onnx_models.lookup_model import build_lookup_registry


def test_a_complete_model_loads(tmp_path):
    bundle = load_bundle(build_lookup_registry(tmp_path))
    assert bundle.manifest.name == "lookup_ner"
    assert set(bundle.manifest.files) == {"model.onnx", "tokenizer.json", "MODEL_CARD.md"}


def test_an_altered_file_is_refused_by_name(tmp_path):
    directory = build_lookup_registry(tmp_path)
    with (directory / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelRegistryError, match=r"model\.onnx has sha256 .* expects"):
        load_bundle(directory)


def test_a_missing_file_is_refused_by_name(tmp_path):
    directory = build_lookup_registry(tmp_path)
    (directory / "tokenizer.json").unlink()
    with pytest.raises(ModelRegistryError, match=r"tokenizer\.json is missing"):
        load_bundle(directory)


def test_an_unpinned_variant_is_refused(tmp_path):
    directory = build_lookup_registry(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    del manifest["files"]["model.onnx"]
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRegistryError, match="not pinned"):
        load_bundle(directory)


def test_unknown_model_lists_what_exists(tmp_path):
    with pytest.raises(ModelRegistryError, match="not found"):
        load_bundle(tmp_path / "nothing")


def test_a_sentence_encoder_is_refused_where_a_token_classifier_is_needed():
    with pytest.raises(ModelRegistryError, match="is a feature-extraction model"):
        load_bundle("sentence_minilm")
    assert load_bundle("sentence_minilm", task=None).manifest.pooling == "mean"


def test_a_feature_extraction_manifest_names_its_pooling(tmp_path):
    directory = build_lookup_registry(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["task"] = "feature-extraction"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRegistryError, match="needs pooling"):
        load_bundle(directory, task=None)
    manifest["task"] = "summarization"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRegistryError, match="task 'summarization' is not one of"):
        load_bundle(directory, task=None)


def test_manifest_thresholds_are_probabilities(tmp_path):
    directory = build_lookup_registry(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["thresholds"] = {"NAME": 1.5}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRegistryError, match="lookup_ner: thresholds must be between 0 and 1"):
        load_bundle(directory)


@pytest.mark.parametrize("entity_mass", [0.0, 1.5, -0.1])
def test_manifest_entity_mass_is_a_probability_above_zero(tmp_path, entity_mass):
    directory = build_lookup_registry(tmp_path)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["entity_mass"] = entity_mass
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelRegistryError, match=r"lookup_ner: entity_mass must be in \(0, 1\]"):
        load_bundle(directory)
