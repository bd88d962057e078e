import pytest

from transforms.core.spans import Span
from transforms.detection.base import DetectorConfigError
from transforms.detection.guards import (
    ClinicalValueFilter,
    ModelSpanFilter,
    build_filters,
    has_type_shape,
)

MODEL = "onnx_ner:deid_phi_minilm"


def span(text, surface, phi_type, score=0.9, detector=MODEL, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(surface, start + 1)
    return Span(start, start + len(surface), phi_type, phi_type, score, detector)


def kept(text, spans, guard=None):
    guard = guard or ModelSpanFilter()
    guard.load()
    return [text[s.start : s.end] for s in guard.filter(text, spans)]


@pytest.mark.parametrize(
    ("surface", "phi_type", "ok"),
    [
        ("March 3", "DATE", True),
        ("3/14/2021", "DATE", True),
        ("Oct 2021", "DATE", True),
        ("OCT", "DATE", False),  # optical coherence tomography
        ("4", "DATE", False),
        ("days", "DATE", False),
        ("Labor Day", "DATE", True),
        ("617-555-0142", "CONTACT", True),
        ("a@b.org", "CONTACT", True),
        ("116", "CONTACT", False),
        ("MRN 88-41-22", "ID", True),
        ("b27", "ID", False),
        ("92", "AGE", True),
        ("45", "AGE", False),
    ],
)
def test_type_shapes(surface, phi_type, ok):
    assert has_type_shape(surface, phi_type, min_age=90) is ok


def test_model_only_common_words_are_dropped_names_kept():
    text = "Serology was negative. Seen by Halvorsen in the emergency department."
    spans = [
        span(text, "Serology", "NAME"),
        span(text, "Halvorsen", "NAME"),
        span(text, "emergency department", "LOCATION"),
    ]
    assert kept(text, spans) == ["Halvorsen"]


def test_capitalisation_mid_sentence_keeps_a_common_word_name():
    text = "She was transferred from Mercy Hospital and the general ward."
    spans = [span(text, "Mercy Hospital", "LOCATION"), span(text, "general ward", "LOCATION")]
    assert kept(text, spans) == ["Mercy Hospital"]


def test_in_all_caps_text_capitals_say_nothing_but_unknown_words_still_count():
    text = "PT SEEN IN EMERGENCY DEPARTMENT BY HALVORSEN."
    spans = [span(text, "EMERGENCY DEPARTMENT", "LOCATION"), span(text, "HALVORSEN", "NAME")]
    assert kept(text, spans) == ["HALVORSEN"]


def test_surrogate_pool_names_never_look_common():
    text = "pt is well. f/u with smith next week."
    assert kept(text, [span(text, "smith", "NAME")]) == ["smith"]


def test_initials_with_periods_are_names_letters_alone_are_not():
    text = "Signed J. Stone. Hepatitis B and C serologies."
    spans = [span(text, "J.", "NAME"), span(text, "B and C", "NAME")]
    assert kept(text, spans) == ["J."]


def test_corroborated_spans_and_other_detectors_pass():
    text = "Seen in the emergency department today."
    pattern = span(text, "emergency department", "LOCATION", detector="presidio_patterns")
    model = span(text, "emergency department", "LOCATION")
    assert kept(text, [pattern, model]) == ["emergency department"] * 2


def test_a_piece_of_a_longer_value_stays_with_its_neighbour():
    text = "Originally from south Brittneytown, Haiti."
    spans = [span(text, "south", "LOCATION"), span(text, "Brittneytown", "LOCATION")]
    assert kept(text, spans) == ["south", "Brittneytown"]


def test_a_confident_model_keeps_its_span():
    text = "Seen in the emergency department."
    spans = [span(text, "emergency department", "LOCATION", score=0.999)]
    assert kept(text, spans, ModelSpanFilter(keep_score=0.99)) == ["emergency department"]
    assert kept(text, spans, ModelSpanFilter(keep_score=1.0)) == []


def test_clinical_value_filter_drops_only_spans_wholly_inside_values():
    text = "BP 116/84 per Dr. Halvorsen; 2/6 SEM."
    spans = [
        span(text, "116", "CONTACT"),
        span(text, "2/6", "DATE"),
        span(text, "Halvorsen", "NAME"),
    ]
    assert kept(text, spans, ClinicalValueFilter()) == ["Halvorsen"]


def test_filters_are_built_by_name_with_errors_naming_them():
    assert [f.name for f in build_filters([{"name": "clinical_values"}])] == ["clinical_values"]
    with pytest.raises(DetectorConfigError, match="unknown span filter 'nope'"):
        build_filters([{"name": "nope"}])
    with pytest.raises(DetectorConfigError, match="invalid options"):
        build_filters([{"name": "clinical_values", "options": {"x": 1}}])
    with pytest.raises(DetectorConfigError, match="keep_score"):
        ModelSpanFilter(keep_score=2.0)


def test_facility_names_made_of_common_words_are_kept_departments_are_not():
    text = "Seen at General Hospital, then at Children's Clinic; sent to the Emergency Department."
    spans = [
        span(text, "General Hospital", "LOCATION"),
        span(text, "Children's Clinic", "LOCATION"),
        span(text, "Emergency Department", "LOCATION"),
    ]
    assert kept(text, spans) == ["General Hospital", "Children's Clinic"]


def test_real_places_never_look_common():
    text = "He moved here from Seattle last year, after treatment at Mass General."
    spans = [span(text, "Seattle", "LOCATION"), span(text, "Mass General", "LOCATION")]
    assert kept(text, spans) == ["Seattle", "Mass General"]


def test_drug_names_built_on_inn_stems_are_dropped_names_next_to_them_kept():
    # Unknown to every word list, so without the INN stems each would look like a name.
    text = "Halvorsen started canakinumab and dasatinib; metoprolol held. Riluzole stopped."
    drugs = ["canakinumab", "dasatinib", "metoprolol", "Riluzole"]
    spans = [span(text, d, "NAME") for d in drugs] + [span(text, "Halvorsen", "NAME")]
    assert kept(text, spans) == ["Halvorsen"]


def test_words_formed_as_clinical_terms_are_dropped():
    text = "Arthrocentesis and talc pleurodesis; neutrophilia. Radiographically normal."
    words = ["Arthrocentesis", "talc pleurodesis", "neutrophilia", "Radiographically"]
    assert kept(text, [span(text, w, "NAME") for w in words]) == []


def faker_person_names() -> set[str]:
    """Every first name and surname of every Faker person locale, folded."""
    import importlib
    import pkgutil
    import re

    import faker.providers.person as person

    from transforms.core.text import fold

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attribute in ("first_names", "last_names", "first_names_male", "first_names_female"):
            pool = getattr(provider, attribute, None)
            if isinstance(pool, (list, tuple, dict, set)):
                names.update(fold(w) for n in pool for w in re.findall(r"[^\W\d_]+", str(n)))
    return names


def test_no_first_name_or_surname_ends_like_a_drug_or_clinical_term():
    from transforms.detection.guards import _CLINICAL_ENDING, _DRUG_STEM

    names = faker_person_names()
    assert len(names) > 40_000
    long_names = [n for n in names if len(n) >= 7]
    assert not [n for n in long_names if _DRUG_STEM.search(n) or _CLINICAL_ENDING.search(n)]
