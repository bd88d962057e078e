"""The PHI view of the ONNX token classifier: model entities become PHI spans.

The classifier itself (``onnx_models.runtime.classifier``) is shared with the
clinical entity step; what is PHI-specific lives here: the label map to
deidcode subtypes, per-type thresholds and Safe Harbor's years.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from onnx_models.registry import ModelBundle
from onnx_models.runtime.classifier import (
    DocumentError,
    EngineSettings,
    EngineStats,
    NerConfigError,
    OnnxTokenClassifier,
    choose_runtime,
)
from onnx_models.runtime.decode import Entity, split_at_line_breaks
from schemas.phi_types import PHI_TYPES, coarse_type
from transforms.core.spans import Span
from transforms.detection.ner.describe import effective_entity_mass, effective_thresholds

__all__ = [
    "DocumentError",
    "EngineStats",
    "NerConfigError",
    "NerSettings",
    "OnnxNerModel",
    "choose_runtime",
    "is_date_element",
]


_DATE_WORDS = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|"
    r"christmas|thanksgiving|easter|new year|labor day|memorial day|halloween|independence|"
    r"fourth of july|today|yesterday|tomorrow)",
    re.IGNORECASE,
)


def is_date_element(surface: str) -> bool:
    """True if ``surface`` holds a date element other than a year alone."""
    without_years = re.sub(r"(?<!\d)(?:19|20)\d{2}(?!\d)", "", surface)
    return bool(re.search(r"\d", without_years) or _DATE_WORDS.search(surface))


@dataclass(frozen=True)
class NerSettings(EngineSettings):
    """Engine settings whose ``thresholds`` are per coarse phi_type."""

    # Safe Harbor keeps years: drop model DATE spans that hold no date element
    # besides a year ("in 2015") or none at all ("since", "the end").
    drop_years_alone: bool = True
    # The model manifest's per-type thresholds, chosen on validation data for
    # that model (bench/calibrate_thresholds.py). A type named in
    # ``thresholds`` takes that value instead; a type neither names takes
    # ``default_threshold``. The manifest's entity_mass comes with its thresholds
    # unless ``entity_mass`` is set. False ignores both.
    calibrated_thresholds: bool = True

    def __post_init__(self) -> None:
        unknown = sorted(set(self.thresholds) - set(PHI_TYPES))
        if unknown:
            raise NerConfigError(f"thresholds name unknown phi_type(s) {unknown}")
        super().__post_init__()


class OnnxNerModel(OnnxTokenClassifier):
    """A PHI model: ``predict(texts)`` gives PHI spans per text."""

    settings: NerSettings

    def __init__(self, bundle: ModelBundle, settings: NerSettings) -> None:
        super().__init__(bundle, settings)
        self.detector_name = f"onnx_ner:{self.manifest.name}"
        unknown = sorted(set(self.manifest.thresholds) - set(PHI_TYPES))
        if unknown and settings.calibrated_thresholds:
            raise NerConfigError(
                f"model {self.manifest.name}: manifest thresholds name unknown phi_type(s) "
                f"{unknown}"
            )
        self.thresholds = effective_thresholds(settings, self.manifest.thresholds)
        self.entity_mass = effective_entity_mass(settings, self.manifest.entity_mass)

    def threshold_for(self, phi_type: str) -> float:
        """The score a span of ``phi_type`` needs: config, then manifest, then the default."""
        return self.thresholds.get(phi_type, self.settings.default_threshold)

    def predict(self, texts: Sequence[str]) -> list[list[Span] | DocumentError]:
        """Spans for each text; a failing text gets a ``DocumentError`` and fails alone."""
        outcomes: list[list[Span] | DocumentError] = []
        for text, found in zip(texts, self.predict_entities(texts), strict=True):
            outcomes.append(found if isinstance(found, DocumentError) else self._phi(found, text))
        return outcomes

    def _phi(self, entities: list[Entity], note_text: str) -> list[Span]:
        spans = []
        # A PHI span never crosses a line break: each line's piece stands alone.
        pieces = [piece for entity in entities for piece in split_at_line_breaks(entity, note_text)]
        for entity in pieces:
            subtype = self.manifest.label_map.get(entity.label, entity.label).upper()
            phi_type = coarse_type(subtype)
            threshold = self.threshold_for(phi_type)
            surface = note_text[entity.start : entity.end]
            if (
                phi_type == "DATE"
                and self.settings.drop_years_alone
                and not is_date_element(surface)
            ):
                continue
            if entity.score >= threshold:
                spans.append(
                    Span(
                        entity.start,
                        entity.end,
                        phi_type,
                        subtype,
                        round(entity.score, 4),
                        self.detector_name,
                    )
                )
        return spans
