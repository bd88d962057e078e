"""The bundled clinical NER model: it loads, its hashes match, it finds problems and
drugs in sentences written for these tests, and it runs the same on int8 and fp16."""

import pytest

from onnx_models.registry import load_bundle
from transforms.entities.model import ClinicalNerModel, EntitySettings

MODEL = "clinical_ner_minilm"

# (text, [(surface inside an entity, label)]). Written for these tests; fictional.
SENTENCES = [
    (
        "She was started on metformin for type 2 diabetes mellitus.",
        [("metformin", "DRUG"), ("diabetes", "PROBLEM")],
    ),
    (
        "History of hypertension and atrial fibrillation, anticoagulated with warfarin.",
        [("hypertension", "PROBLEM"), ("atrial fibrillation", "PROBLEM"), ("warfarin", "DRUG")],
    ),
    (
        "Lithium toxicity presented with tremor and acute renal failure.",
        [("Lithium", "DRUG"), ("renal failure", "PROBLEM")],
    ),
    ("No evidence of pneumonia on the chest film.", [("pneumonia", "PROBLEM")]),
]


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(MODEL)  # verifies every file's sha256


@pytest.fixture(scope="module")
def int8(bundle):
    return ClinicalNerModel(bundle, EntitySettings(model=MODEL, variant="int8", device="cpu"))


def test_bundled_model_is_registered_pinned_and_small(bundle):
    manifest = bundle.manifest
    assert set(manifest.variants) == {"int8", "fp16"}
    assert set(manifest.label_map.values()) == {"PROBLEM", "DRUG"}
    size = sum((bundle.directory / f).stat().st_size for f in manifest.files)
    assert size < 70e6
    assert {"dev", "targets", "training"} <= set(manifest.evaluation)


@pytest.mark.parametrize("text, expected", SENTENCES)
def test_finds_problems_and_drugs(int8, text, expected):
    [found] = int8.find([text])
    for surface, label in expected:
        start = text.index(surface)
        end = start + len(surface)
        assert any(m.start <= start and end <= m.end and m.label == label for m in found), (
            surface,
            [(text[m.start : m.end], m.label) for m in found],
        )


def test_int8_and_fp16_find_the_same_entities(bundle, int8):
    fp16 = ClinicalNerModel(bundle, EntitySettings(model=MODEL, variant="fp16", device="cpu"))
    texts = [text for text, _ in SENTENCES]
    for a, b in zip(int8.find(texts), fp16.find(texts), strict=True):
        assert [(m.start, m.end, m.label) for m in a] == [(m.start, m.end, m.label) for m in b]
