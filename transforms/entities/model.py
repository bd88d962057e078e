"""The clinical NER model: the shared ONNX token classifier, read as problems and drugs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onnx_models.registry import ModelBundle
from onnx_models.runtime.classifier import (
    DocumentError,
    EngineSettings,
    OnnxTokenClassifier,
)


@dataclass(frozen=True, slots=True)
class FoundMention:
    """A model entity under our label, before assertion."""

    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True)
class EntitySettings(EngineSettings):
    """Engine settings whose ``thresholds`` are per entity label."""

    # Keep only these labels (after the manifest's label map); empty keeps all.
    labels: tuple[str, ...] = ()
    # Surfaces (case-folded) that are never an entity on their own: titles and form
    # labels ("Mrs", "DOB", "Fax"); the entity step fills in the bundled list.
    stop_words: frozenset[str] = frozenset()


class ClinicalNerModel(OnnxTokenClassifier):
    """``find(texts)``: mentions per text, labelled through the manifest's label map.

    The map lets any registry token classifier serve (an OpenMed checkpoint's
    ``DISEASE``/``CHEM`` become ``PROBLEM``/``DRUG`` at export)."""

    settings: EntitySettings

    def __init__(self, bundle: ModelBundle, settings: EntitySettings) -> None:
        super().__init__(bundle, settings)
        self.model_name = f"{self.manifest.name}:{self.manifest.version}"

    def find(self, texts: Sequence[str]) -> list[list[FoundMention] | DocumentError]:
        outcomes: list[list[FoundMention] | DocumentError] = []
        for text, found in zip(texts, self.predict_entities(texts), strict=True):
            if isinstance(found, DocumentError):
                outcomes.append(found)
                continue
            mentions = []
            for entity in found:
                label = self.manifest.label_map.get(entity.label, entity.label).upper()
                if self.settings.labels and label not in self.settings.labels:
                    continue
                # The decoder has trimmed brackets and commas; a title keeps its period.
                if text[entity.start : entity.end].strip(".").lower() in self.settings.stop_words:
                    continue
                if entity.score >= self.settings.threshold_for(label):
                    mentions.append(
                        FoundMention(entity.start, entity.end, label, round(entity.score, 4))
                    )
            outcomes.append(mentions)
        return outcomes
