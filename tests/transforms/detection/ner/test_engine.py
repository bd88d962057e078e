"""The ONNX engine on a real (lookup-table) ONNX model."""

import json

import pytest

from onnx_models.registry import load_bundle
from schemas.phi_types import PHI_TYPES
from tests.onnx_models.lookup_model import FILLER, build_lookup_registry
from transforms.detection.ner.describe import describe_model
from transforms.detection.ner.engine import (
    DocumentError,
    EngineStats,
    NerConfigError,
    NerSettings,
    OnnxNerModel,
    choose_runtime,
)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    directory = build_lookup_registry(tmp_path_factory.mktemp("registry"))
    settings = NerSettings(model=str(directory), batch_size=4, deterministic=False)
    return OnnxNerModel(load_bundle(directory), settings)


def names(text, spans):
    return [(text[s.start : s.end], s.subtype) for s in spans]


def test_short_note(model):
    text = "John Smith was seen Monday."
    assert names(text, model.predict([text])[0]) == [("John Smith", "PATIENT"), ("Monday", "DATE")]


@pytest.mark.parametrize("position", range(0, 30))
def test_phi_planted_at_every_window_boundary(model, position):
    """max_length 12 gives windows of 10 tokens overlapping by 3; a two-word name is
    planted at every offset, so it straddles each window edge in turn."""
    words = [FILLER[i % 4] for i in range(40)]
    words[position : position + 2] = ["maria", "okafor"]
    text = " ".join(words)
    spans = model.predict([text])[0]
    assert names(text, spans) == [("maria okafor", "PATIENT")]


def test_a_span_never_crosses_a_line_break(model):
    """The lookup model labels "john" and "smith" I-NAME, which decode as one name;
    across a line break each line's piece is a span of its own."""
    text = "seen by john smith\njones was seen"
    assert names(text, model.predict([text])[0]) == [
        ("john smith", "PATIENT"),
        ("jones", "PATIENT"),
    ]


def test_subwords_group_into_one_word(model):
    assert names("johns", model.predict(["johns"])[0]) == [("johns", "PATIENT")]


def test_a_failing_note_fails_alone(model):
    texts = ["john was seen", "poison " + " ".join(FILLER * 3), "the patient smith", "\ud800 bad"]
    outcomes = model.predict(texts)
    assert names(texts[0], outcomes[0]) == [("john", "PATIENT")]
    assert isinstance(outcomes[1], DocumentError) and "inference" in str(outcomes[1])
    assert names(texts[2], outcomes[2]) == [("smith", "PATIENT")]
    assert isinstance(outcomes[3], DocumentError) and "tokenize" in str(outcomes[3])
    assert "poison" not in str(outcomes[1])


def test_windows_are_sorted_to_limit_padding(model):
    model.stats = EngineStats()
    model.predict(["john", " ".join(FILLER * 5), "smith was seen", " ".join(FILLER * 2)])
    assert model.stats.padding_ratio < 0.25


def test_thresholds_per_type(tmp_path):
    directory = build_lookup_registry(tmp_path)
    strict = OnnxNerModel(
        load_bundle(directory), NerSettings(model=str(directory), thresholds={"NAME": 0.9999})
    )
    text = "john seen monday"
    assert names(text, strict.predict([text])[0]) == [("monday", "DATE")]


def with_manifest_thresholds(directory, thresholds, **calibration):
    path = directory / "manifest.json"
    manifest = {**json.loads(path.read_text()), "thresholds": thresholds, **calibration}
    path.write_text(json.dumps(manifest))
    return directory


def test_manifest_thresholds_apply_unless_the_config_names_the_type(tmp_path):
    directory = with_manifest_thresholds(build_lookup_registry(tmp_path), {"NAME": 0.9999})
    text = "john seen monday"

    def found(**options):
        model = OnnxNerModel(load_bundle(directory), NerSettings(model=str(directory), **options))
        return names(text, model.predict([text])[0])

    assert found() == [("monday", "DATE")]
    assert found(thresholds={"NAME": 0.5}) == [("john", "PATIENT"), ("monday", "DATE")]
    assert found(calibrated_thresholds=False) == [("john", "PATIENT"), ("monday", "DATE")]
    # default_threshold covers only the types neither the config nor the manifest names.
    assert found(default_threshold=0.9999) == []


def test_manifest_entity_mass_comes_with_its_thresholds(tmp_path):
    """A model calibrated with entity_mass decoding finds the name it leans away
    from ("jonas": O 0.62, B-NAME 0.38) only with that decoding and its thresholds."""
    directory = with_manifest_thresholds(
        build_lookup_registry(tmp_path), {"NAME": 0.3}, entity_mass=0.3
    )
    text = "jonas seen monday"

    def found(**options):
        model = OnnxNerModel(load_bundle(directory), NerSettings(model=str(directory), **options))
        return names(text, model.predict([text])[0])

    assert found() == [("jonas", "PATIENT"), ("monday", "DATE")]
    # Without the calibration each word takes its most probable label, O.
    assert found(calibrated_thresholds=False) == [("monday", "DATE")]
    # A config's entity_mass wins over the manifest's: 0.38 does not reach 0.5.
    assert found(entity_mass=0.5) == [("monday", "DATE")]
    assert describe_model(NerSettings(model=str(directory)))["entity_mass"] == 0.3
    off = NerSettings(model=str(directory), calibrated_thresholds=False)
    assert describe_model(off)["entity_mass"] is None


def test_manifest_thresholds_must_name_phi_types(tmp_path):
    directory = with_manifest_thresholds(build_lookup_registry(tmp_path), {"PERSON": 0.9})
    with pytest.raises(NerConfigError, match=r"manifest thresholds name unknown.*PERSON"):
        OnnxNerModel(load_bundle(directory), NerSettings(model=str(directory)))


def test_bundled_model_carries_its_calibrated_thresholds():
    """The thresholds chosen by bench/calibrate_thresholds.py travel with the model."""
    manifest = load_bundle("deid_phi_minilm", verify=False).manifest
    assert set(manifest.thresholds) <= set(PHI_TYPES)
    assert manifest.thresholds and all(0 < v < 1 for v in manifest.thresholds.values())


def test_runtime_choice():
    cpu = ["CPUExecutionProvider"]
    gpu = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    all_variants = ["fp32", "fp16", "int8"]
    assert choose_runtime(NerSettings(model="m"), all_variants, cpu).variant == "int8"
    chosen = choose_runtime(NerSettings(model="m"), all_variants, gpu)
    assert (chosen.variant, chosen.uses_cuda) == ("fp16", True)
    assert choose_runtime(NerSettings(model="m", device="cpu"), all_variants, gpu).variant == "int8"
    assert choose_runtime(NerSettings(model="m"), ["fp32"], cpu).variant == "fp32"
    with pytest.raises(NerConfigError, match="no CUDA execution provider"):
        choose_runtime(NerSettings(model="m", device="cuda"), all_variants, cpu)
    with pytest.raises(NerConfigError, match="no fp16 variant"):
        choose_runtime(NerSettings(model="m", variant="fp16"), ["fp32"], cpu)
    with pytest.raises(NerConfigError, match="device"):
        NerSettings(model="m", device="tpu")
