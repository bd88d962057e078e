"""The entity step: its model and ConText inside a real Beam pipeline, and its config."""

import apache_beam as beam
import pytest
from apache_beam.ml.inference.base import RunInference
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.onnx_models.lookup_model import build_lookup_registry
from transforms.core.records import AnnotatedNote, ModelFailure, Note
from transforms.entities.step import EntityConfigError, EntityStep


@pytest.fixture(scope="module")
def clinical_model(tmp_path_factory):
    return build_lookup_registry(tmp_path_factory.mktemp("registry"), clinical=True)


def summarise(item):
    if isinstance(item.entities, ModelFailure):
        return item.note.note_id, "failed"
    text = item.note.text
    return item.note.note_id, tuple(
        (
            text[e.start : e.end],
            e.label,
            e.assertion.negated,
            e.assertion.family,
            e.assertion.hypothetical,
            e.assertion.historical,
        )
        for e in item.entities
    )


def test_entities_and_assertions_in_a_pipeline(clinical_model):
    step = EntityStep.build(model=str(clinical_model), options={})
    notes = [
        Note("f", 1, "a", "p", "patient denies asthma but takes metformin"),
        Note("f", 2, "b", "p", "poison asthma"),  # inference fails on this note alone
        Note("f", 3, "c", "p", "mother has diabetes"),
        Note("f", 4, "d", "p", "history of smith syndrome.\naspirin if asthma worsens"),
        Note("f", 5, "e", "p", "the patient was seen today"),
    ]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as p:
        results = (
            p
            | beam.Create([AnnotatedNote(n) for n in notes])
            | RunInference(step.handler())
            | beam.Map(summarise)
        )
        assert_that(
            results,
            equal_to(
                [
                    (
                        "a",
                        (
                            ("asthma", "PROBLEM", True, False, False, False),
                            ("metformin", "DRUG", False, False, False, False),
                        ),
                    ),
                    ("b", "failed"),
                    ("c", (("diabetes", "PROBLEM", False, True, False, False),)),
                    (
                        "d",
                        (
                            ("smith syndrome", "PROBLEM", False, False, False, True),
                            ("aspirin", "DRUG", False, False, False, False),
                            ("asthma", "PROBLEM", False, False, True, False),
                        ),
                    ),
                    ("e", ()),
                ]
            ),
        )


def test_thresholds_and_labels_filter(clinical_model):
    from onnx_models.registry import load_bundle
    from transforms.entities.model import ClinicalNerModel

    step = EntityStep.build(model=str(clinical_model), options={"labels": ["drug"]})
    model = ClinicalNerModel(load_bundle(step.settings.model), step.settings)
    [found] = model.find(["asthma and metformin"])
    assert [(m.label, m.start) for m in found] == [("DRUG", 11)]
    strict = EntityStep.build(model=str(clinical_model), options={"default_threshold": 1.0})
    model = ClinicalNerModel(load_bundle(strict.settings.model), strict.settings)
    assert model.find(["asthma"]) == [[]]


def test_stop_words_drop_whole_surfaces_only(clinical_model):
    from onnx_models.registry import load_bundle
    from transforms.entities.model import ClinicalNerModel

    bundled = EntityStep.build(model=str(clinical_model), options={}).settings.stop_words
    assert {"mrs", "dob", "fax"} <= bundled and "asthma" not in bundled
    step = EntityStep.build(model=str(clinical_model), options={"stop_words": ["Asthma"]})
    model = ClinicalNerModel(load_bundle(step.settings.model), step.settings)
    [found] = model.find(["asthma, smith syndrome and (asthma)"])
    assert [m.label for m in found] == ["PROBLEM"] and found[0].start == 8


def test_config_errors_name_the_option_and_file(clinical_model, tmp_path):
    with pytest.raises(EntityConfigError, match=r"unknown option\(s\) \['colour'\]"):
        EntityStep.build(model=str(clinical_model), options={"colour": "red"})
    with pytest.raises(EntityConfigError, match="thresholds must be between 0 and 1"):
        EntityStep.build(model=str(clinical_model), options={"default_threshold": 2})
    bad = tmp_path / "rules.yaml"
    bad.write_text("context_rules: [{literal: 'no', category: SOMETIMES}]\n")
    with pytest.raises(EntityConfigError, match="rules.yaml"):
        EntityStep.build(model=str(clinical_model), options={}, rules=[str(bad)])
