"""The bundled PHI model: it loads, its hashes match, and it finds PHI in notes
written for these tests (styles the pattern detector alone misses)."""

import numpy as np
import pytest

from onnx_models.registry import load_bundle
from transforms.detection.ner.engine import NerSettings, OnnxNerModel

MODEL = "deid_phi_minilm"

# (text, PHI surfaces the model must cover). Written for these tests; fictional.
NOTES = [
    ("pt seen by dr okonjo today, wife brenda at bedside.", ["okonjo", "brenda"]),
    # 1.0 missed a surname right after "PT" in caps; 2.0's carriers put names there.
    (
        "PT WALTERS C/O SOB X 2 DAYS. DAUGHTER MAGDALENA CALLED 8/9.",
        ["WALTERS", "MAGDALENA", "8/9"],
    ),
    ("PT IS ALERT. DAUGHTER MAGDALENA CALLED 8/9.", ["MAGDALENA", "8/9"]),
    (
        "Follow up with Dr. Anneliese Vanterpool at Brookside General Hospital on 6/14.",
        ["Anneliese Vanterpool", "Brookside General Hospital", "6/14"],
    ),
    ("Discussed with the patient's son, Ignatius Oduya, by phone.", ["Ignatius Oduya"]),
    ("Thank you,\nPriscilla Haverbrook, MD", ["Priscilla Haverbrook"]),
    ("Mrs. Delacroix-Nyambura tolerated the procedure well.", ["Delacroix-Nyambura"]),
    ("Lives in Port Caldwell with her partner.", ["Port Caldwell"]),
]

TEXTS = [text for text, _ in NOTES]


@pytest.fixture(scope="module")
def bundle():
    return load_bundle(MODEL)  # verifies every file's sha256


@pytest.fixture(scope="module")
def int8(bundle):
    return OnnxNerModel(bundle, NerSettings(model=MODEL, variant="int8", device="cpu"))


def test_bundled_model_is_registered_and_pinned(bundle):
    manifest = bundle.manifest
    assert set(manifest.variants) == {"int8", "fp16"}
    assert set(manifest.files) >= {
        "model_int8.onnx",
        "model_fp16.onnx",
        "tokenizer.json",
        "MODEL_CARD.md",
    }
    size = sum((bundle.directory / f).stat().st_size for f in manifest.files)
    assert size < 70e6


@pytest.mark.parametrize("text, expected", NOTES)
def test_finds_phi_in_hard_styles(int8, text, expected):
    spans = int8.predict([text])[0]
    for surface in expected:
        start = text.index(surface)
        end = start + len(surface)
        covered = set()
        for span in spans:
            covered.update(range(max(span.start, start), min(span.end, end)))
        assert covered == set(range(start, end)), (surface, spans)


def test_leaves_clinical_words_alone(int8):
    text = "Parkinson disease, Foley catheter in place, Apgars 8 and 9, HR 100-110'S in the ICU."
    assert int8.predict([text])[0] == []


def _redacted_word_chars(text, spans):
    """Word characters covered by spans: agreement on what is redacted, not on
    whether a neighbouring comma joins the span."""
    return {(i, s.phi_type) for s in spans for i in range(s.start, s.end) if text[i].isalnum()}


def test_int8_and_fp16_agree(bundle, int8):
    fp16 = OnnxNerModel(bundle, NerSettings(model=MODEL, variant="fp16", device="cpu"))
    texts = TEXTS
    for text, a, b in zip(texts, int8.predict(texts), fp16.predict(texts), strict=True):
        assert _redacted_word_chars(text, a) == _redacted_word_chars(text, b)
    note = int8.tokenize(texts[2])
    rows = [note.ids]
    assert np.abs(int8._infer_rows(rows)[0] - fp16._infer_rows(rows)[0]).max() < 1.5


def test_deterministic_mode_is_batch_invariant(int8):
    """int8 scales activations per batch; deterministic runs must not depend on neighbours."""
    texts = TEXTS
    alone = [int8.predict([text])[0] for text in texts]
    assert int8.predict(texts) == alone
    assert int8.predict(list(reversed(texts))) == list(reversed(alone))


def test_window_settings_override_the_manifest_and_are_checked():
    from transforms.detection.ner.engine import NerConfigError

    text = "Pt seen by Dr. Alvarez today, BP 120/80. " * 40  # several windows' worth
    bundle = load_bundle("deid_phi_minilm")
    default = OnnxNerModel(bundle, NerSettings(model="deid_phi_minilm"))
    longer = OnnxNerModel(bundle, NerSettings(model="deid_phi_minilm", max_length=256, stride=16))
    assert max(len(w) for w in default.tokenize(text).windows) == bundle.manifest.max_length - 2
    assert max(len(w) for w in longer.tokenize(text).windows) == 254
    assert len(longer.tokenize(text).windows) < len(default.tokenize(text).windows)
    assert longer.predict([text])[0]  # the model runs on the longer windows
    with pytest.raises(NerConfigError, match="max_length"):
        NerSettings(model="deid_phi_minilm", max_length=4)
