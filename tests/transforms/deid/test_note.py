"""De-identifying notes: the pure step, and the DoFn in a real Beam pipeline."""

import datetime as dt
import re
from dataclasses import replace

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas.config import BUNDLED_PHI_MODEL, DeidcodeConfig, parse_config
from transforms.core.entities import Assertion, ClinicalEntity
from transforms.core.keyed import RunKeys
from transforms.core.records import ModelFailure, Note
from transforms.core.spans import Span
from transforms.deid.beam import DeidentifyNotes
from transforms.deid.components import DeidComponents, NoteSettings
from transforms.deid.note import deidentify_note, patient_date_offset
from transforms.deid.rows import release_note_date
from transforms.detection.base import Detector, build_detector
from transforms.detection.patterns import PresidioPatternDetector

KEYS = RunKeys(patient_id=b"p" * 32, date_shift=b"d" * 32, digest=b"g" * 32)
CONFIG = DeidcodeConfig()


def components(*detectors, config=CONFIG, entities=None, coding=None):
    """The run's components with the given detectors in place of the configured ones,
    and the entity and coding steps only where a test gives them."""
    return replace(
        DeidComponents.from_config(config),
        detectors=tuple(detectors),
        entities=entities,
        coding=coding,
    )


class Exploding(Detector):
    name = "exploding"

    def detect(self, text):
        raise RuntimeError(f"failed on {text}")  # a careless library message quoting the text


class EveryRoe(Detector):
    """A detector that takes every "Roe" for a name, eponyms included."""

    name = "every_roe"

    def detect(self, text):
        return [
            Span(m.start(), m.end(), "NAME", "PATIENT", 0.9, self.name)
            for m in re.finditer("Roe", text)
        ]


class OutOfBounds(Detector):
    name = "out_of_bounds"

    def detect(self, text):
        return [Span(0, len(text) + 5, "NAME", "NAME", 1.0, self.name)]


@pytest.fixture(scope="module")
def patterns():
    detector = PresidioPatternDetector()
    detector.load()
    return detector


def note(text="Seen by Dr. Roe on 03/14/2021.", note_id="n1", patient="P1"):
    return Note("f.csv", 1, note_id, patient, text, note_date=dt.date(2021, 3, 14))


def test_released_note(patterns):
    outcome = deidentify_note(note(), components=components(patterns), keys=KEYS, run_id="r")
    assert outcome.quarantined is None
    assert outcome.note_row["text_deid"] == "Seen by Dr. [NAME] on [DATE]."
    assert outcome.note_row["patient_id"] != "P1"
    assert outcome.note_row["note_date"] != dt.date(2021, 3, 14)
    assert outcome.audit_row["n_name"] == 1 and outcome.audit_row["n_date"] == 1
    assert [r["phi_type"] for r in outcome.span_rows] == ["NAME", "DATE"]


def test_entities_are_projected_and_fail_closed(patterns):
    step = DeidComponents.from_config(CONFIG).entities
    assert step is not None  # on by default
    text = "Seen by Dr. Roe on 03/14/2021 for Roe syndrome."
    found = (
        ClinicalEntity(34, 46, "PROBLEM", 0.9, "m:1", Assertion(historical=True)),  # "Roe syndrome"
        ClinicalEntity(12, 15, "PROBLEM", 0.6, "m:1"),  # "Roe" alone: inside the name
    )
    chosen = components(patterns, EveryRoe(), entities=step)
    outcome = deidentify_note(note(text), components=chosen, keys=KEYS, run_id="r", entities=found)
    assert outcome.note_row["text_deid"] == "Seen by Dr. [NAME] on [DATE] for [NAME] syndrome."
    first, inside = outcome.entity_rows
    assert first["text_deid"] == "[NAME] syndrome" and first["historical"] is True
    assert (first["start"], first["end"]) == (34, 46)
    assert inside["start_deid"] is None and inside["text_deid"] is None
    for given, reason_detail in [
        (None, "entity step did not run"),
        (ModelFailure("entities m:1: inference: RuntimeError"), "inference: RuntimeError"),
    ]:
        failed = deidentify_note(
            note(text), components=chosen, keys=KEYS, run_id="r", entities=given
        )
        assert failed.note_row is None and failed.entity_rows == []
        assert failed.quarantined.reason == "entities_failed"
        assert reason_detail in failed.quarantined.detail


@pytest.mark.parametrize("broken", [Exploding(), OutOfBounds()])
def test_failing_detector_quarantines_without_text(patterns, broken):
    outcome = deidentify_note(
        note(), components=components(patterns, broken), keys=KEYS, run_id="r"
    )
    assert outcome.note_row is None and outcome.span_rows == []
    assert outcome.quarantined.reason == "detector_failed"
    assert "Roe" not in outcome.quarantined.detail
    assert broken.name in outcome.quarantined.detail


def test_note_date_policies():
    day = dt.date(2021, 3, 14)
    kwargs = {"shift_days": patient_date_offset(KEYS, "P1", NoteSettings.from_config(CONFIG))}
    assert release_note_date(day, "keep", **kwargs) == day
    assert release_note_date(day, "drop", **kwargs) is None
    assert release_note_date(day, "year", **kwargs) == dt.date(2021, 1, 1)
    shifted = release_note_date(day, "date_shift", **kwargs)
    assert -365 <= (shifted - day).days <= -1
    assert release_note_date(dt.date(2021, 4, 1), "date_shift", **kwargs) - shifted == (
        dt.date(2021, 4, 1) - day
    )


PATTERNS_ONLY = {
    "detection": {"detectors": [{"name": "presidio_patterns"}]},
    "entities": {"enabled": False},
    "coding": {"enabled": False},
}


def test_dofn_quarantines_notes_a_configured_model_never_saw():
    """The default config has a model detector; without its RunInference step, fail closed."""
    config = DeidComponents.from_config(parse_config({}))  # patterns and the model
    with TestPipeline(argv=["--runner=FnApiRunner"]) as p:
        results = (
            p
            | beam.Create([note("Call 617-555-0199.", "a")])
            | beam.ParDo(DeidentifyNotes(components=config, keys=KEYS, run_id="r")).with_outputs(
                DeidentifyNotes.QUARANTINE, main="notes"
            )
        )
        assert_that(results.notes, equal_to([]))
        assert_that(
            results[DeidentifyNotes.QUARANTINE] | beam.Map(lambda q: (q.reason, q.detail)),
            equal_to([("detector_failed", "detector onnx_ner: did not run")]),
            label="quarantine",
        )


def test_dofn_in_a_pipeline():
    config = DeidComponents.from_config(parse_config(PATTERNS_ONLY))
    notes = [note("Call 617-555-0199.", "a"), note("No PHI here.", "b")]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as p:
        results = (
            p
            | beam.Create(notes)
            | beam.ParDo(DeidentifyNotes(components=config, keys=KEYS, run_id="r")).with_outputs(
                DeidentifyNotes.SPANS,
                DeidentifyNotes.AUDIT,
                DeidentifyNotes.QUARANTINE,
                main="notes",
            )
        )
        assert_that(
            results.notes | beam.Map(lambda r: (r["note_id"], r["text_deid"])),
            equal_to([("a", "Call [CONTACT]."), ("b", "No PHI here.")]),
        )
        assert_that(
            results[DeidentifyNotes.SPANS] | beam.Map(lambda r: (r["note_id"], r["subtype"])),
            equal_to([("a", "PHONE")]),
            label="spans",
        )
        assert_that(results[DeidentifyNotes.QUARANTINE], equal_to([]), label="quarantine")


COLUMN_CONFIG = parse_config(
    {
        "input": {
            "column_policies": {
                "comment": "deid_text",
                "admitted": "date_shift",
                "name": "surrogate",
            }
        }
    }
)
SURROGATE_KEYS = RunKeys(
    patient_id=b"p" * 32, date_shift=b"d" * 32, digest=b"g" * 32, surrogate=b"s" * 32
)


def column_note(comment, admitted="2021-03-14"):
    return Note(
        "f.csv",
        1,
        "n1",
        "P1",
        "Seen by Dr. Roe.",
        columns={"admitted": admitted, "name": "ROE, JANE"},
        text_columns={"comment": comment},
    )


def deidentify_with_columns(note, patterns, *, model_detectors=(), model_results=None):
    return deidentify_note(
        note,
        components=components(patterns, *model_detectors, config=COLUMN_CONFIG),
        keys=SURROGATE_KEYS,
        run_id="r",
        model_results=model_results,
    )


def test_text_columns_go_through_detection_and_other_columns_their_policy(patterns):
    outcome = deidentify_with_columns(column_note("Call Dr. Roe at 617-555-0199."), patterns)
    row = outcome.note_row
    assert row["comment"] == "Call Dr. [NAME] at [CONTACT]."
    assert row["admitted"] != "2021-03-14" and len(row["admitted"]) == 10
    assert row["name"] != "ROE, JANE" and row["name"].isupper()
    assert {(r["field"], r["phi_type"]) for r in outcome.span_rows} == {
        ("text", "NAME"),
        ("comment", "NAME"),
        ("comment", "CONTACT"),
    }
    assert outcome.audit_row["n_phi"] == 3


def test_a_column_its_policy_cannot_release_quarantines_the_note(patterns):
    outcome = deidentify_with_columns(column_note(None, admitted="spring 2021"), patterns)
    assert outcome.note_row is None
    assert outcome.quarantined.reason == "invalid_column_value"
    assert outcome.quarantined.detail == "column 'admitted': value cannot be read for date_shift"


def test_a_model_that_skipped_a_text_column_quarantines_the_note(patterns):
    outcome = deidentify_with_columns(
        column_note("Call Dr. Roe."),
        patterns,
        model_detectors=[build_detector("onnx_ner", {"model": BUNDLED_PHI_MODEL})],
        model_results={"onnx_ner": {"text": ()}},
    )
    assert outcome.quarantined.reason == "detector_failed"
    assert outcome.quarantined.detail == "detector onnx_ner: did not run on comment"
