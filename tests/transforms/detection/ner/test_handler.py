"""The ModelHandler inside a real Beam pipeline, with RunInference."""

import apache_beam as beam
from apache_beam.ml.inference.base import RunInference
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.onnx_models.lookup_model import FILLER, build_lookup_registry
from transforms.core.records import AnnotatedNote, ModelFailure, Note
from transforms.detection.ner.engine import NerSettings
from transforms.detection.ner.handler import OnnxNerModelHandler


def summarise(item):
    result = item.model_results["onnx_ner"]
    if isinstance(result, ModelFailure):
        return item.note.note_id, "failed"
    texts = item.note.texts()
    return item.note.note_id, tuple(
        texts[name][s.start : s.end] for name, spans in result.items() for s in spans
    )


def test_failing_note_is_marked_alone_in_its_batch(tmp_path):
    directory = build_lookup_registry(tmp_path)
    handler = OnnxNerModelHandler(
        settings=NerSettings(model=str(directory)), min_batch_size=4, max_batch_size=4
    )
    notes = [
        Note("f", 1, "a", "p", "john smith was seen"),
        Note("f", 2, "b", "p", "poison " + " ".join(FILLER)),
        Note("f", 3, "c", "p", "seen monday"),
        Note("f", 4, "d", "p", "no phi"),
        # Text columns go through the model with the note; a failure in one fails the note.
        Note("f", 5, "e", "p", "seen today", text_columns={"comment": "smith was seen"}),
        Note("f", 6, "g", "p", "seen today", text_columns={"comment": "poison", "x": None}),
    ]
    with TestPipeline(argv=["--runner=FnApiRunner"]) as p:
        results = (
            p
            | beam.Create([AnnotatedNote(n) for n in notes])
            | RunInference(handler)
            | beam.Map(summarise)
        )
        assert_that(
            results,
            equal_to(
                [
                    ("a", ("john smith",)),
                    ("b", "failed"),
                    ("c", ("monday",)),
                    ("d", ()),
                    ("e", ("smith",)),
                    ("g", "failed"),
                ]
            ),
        )
