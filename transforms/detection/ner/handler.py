"""Beam integration: a ``ModelHandler`` for ONNX token classification, and its Detector.

The handler's elements are ``AnnotatedNote``s: a note plus the results of the
model detectors run on it so far. Each model detector adds its entry, spans or
a failure, and ``DeidentifyNotes`` later quarantines any note with a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from onnx_models.registry import load_bundle
from transforms.core.hidden_imports import ml_frameworks_hidden
from transforms.core.logging_filters import drop_beam_memory_warning
from transforms.core.records import AnnotatedNote, ModelFailure
from transforms.core.spans import Span
from transforms.detection.base import Detector, DetectorConfigError, register_detector
from transforms.detection.ner.engine import (
    DocumentError,
    NerConfigError,
    NerSettings,
    OnnxNerModel,
)

with ml_frameworks_hidden():  # Beam's RunInference imports torch for a GPU model manager
    from apache_beam.ml.inference.base import ModelHandler

drop_beam_memory_warning()  # this module is imported in every worker that runs a model


def ner_settings(options: Mapping[str, Any]) -> NerSettings:
    """NerSettings from a detector's YAML options, with errors naming the option."""
    known = set(NerSettings.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise DetectorConfigError(f"onnx_ner: unknown option(s) {unknown}; known: {sorted(known)}")
    if "model" not in options:
        raise DetectorConfigError(
            "onnx_ner: option 'model' (a registry name or folder) is required"
        )
    try:
        return NerSettings(**options)
    except NerConfigError as exc:
        raise DetectorConfigError(f"onnx_ner: {exc}") from None


class OnnxNerModelHandler(ModelHandler[AnnotatedNote, AnnotatedNote, OnnxNerModel]):
    """Runs an ONNX token-classification model on batches of notes.

    Beam batches notes; the engine runs their windows one at a time by default
    (``deterministic``), or sorted by length and batched together. A note whose
    tokenization or inference fails gets a ``ModelFailure``; its batch
    neighbours are unaffected.
    """

    def __init__(
        self,
        *,
        settings: NerSettings,
        detector_name: str = "onnx_ner",
        min_batch_size: int = 1,
        max_batch_size: int = 64,
    ) -> None:
        super().__init__()
        self._settings = settings
        self._detector_name = detector_name
        self._batch_kwargs = {"min_batch_size": min_batch_size, "max_batch_size": max_batch_size}

    def load_model(self) -> OnnxNerModel:
        return OnnxNerModel(load_bundle(self._settings.model), self._settings)

    def run_inference(
        self,
        batch: Sequence[AnnotatedNote],
        model: OnnxNerModel,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[AnnotatedNote]:
        fields = [item.note.texts() for item in batch]
        outcomes = iter(model.predict([text for texts in fields for text in texts.values()]))
        for item, texts in zip(batch, fields, strict=True):
            found = {name: next(outcomes) for name in texts}
            failures = [outcome for outcome in found.values() if isinstance(outcome, DocumentError)]
            if failures:
                yield item.with_result(self._detector_name, ModelFailure(str(failures[0])))
            else:
                spans = {name: tuple(outcome) for name, outcome in found.items()}
                yield item.with_result(self._detector_name, spans)

    def batch_elements_kwargs(self) -> Mapping[str, Any]:
        return self._batch_kwargs

    def get_metrics_namespace(self) -> str:
        return "deidcode_onnx_ner"

    def get_num_bytes(self, batch: Sequence[AnnotatedNote]) -> int:
        return sum(
            len(text.encode("utf-8")) for item in batch for text in item.note.texts().values()
        )


@register_detector("onnx_ner")
class OnnxNerDetector(Detector):
    """A transformer NER model from the registry. In a pipeline it runs through
    ``OnnxNerModelHandler`` (batched across notes); ``detect`` serves other callers."""

    version = "1.0"
    batched = True  # the pipeline runs it through RunInference, not inside DeidentifyNotes

    def __init__(self, **options: Any) -> None:
        self.settings = ner_settings(options)
        self._model: OnnxNerModel | None = None

    def load(self) -> None:
        if self._model is None:
            self._model = OnnxNerModel(load_bundle(self.settings.model), self.settings)

    def describe(self) -> dict[str, str]:
        bundle = load_bundle(self.settings.model, verify=False)
        return {
            "name": self.name,
            "version": self.version,
            "model": bundle.manifest.name,
            "model_version": bundle.manifest.version,
        }

    def handler(self) -> OnnxNerModelHandler:
        return OnnxNerModelHandler(settings=self.settings, detector_name=self.name)

    def detect(self, text: str) -> list[Span]:
        self.load()
        assert self._model is not None
        outcome = self._model.predict([text])[0]
        if isinstance(outcome, DocumentError):
            raise outcome
        return outcome
