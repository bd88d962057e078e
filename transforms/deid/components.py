"""What the note step needs, built and validated once from one config object.

The driver builds ``DeidComponents`` before Beam starts (so a bad option stops
the run with a message), and the same object is pickled to each worker, whose
``setup`` only loads the detectors' heavy resources.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.config import DeidcodeConfig
from transforms.coding.step import CodingStep
from transforms.detection.base import Detector, build_detectors
from transforms.detection.guards import SpanFilter, build_filters
from transforms.entities.step import EntityStep
from transforms.redaction.columns import ColumnRelease
from transforms.redaction.operator import Operator
from transforms.redaction.policy import RedactionPolicy


@dataclass(frozen=True)
class NoteSettings:
    """The few config values the note step reads itself."""

    date_shift_min_days: int
    date_shift_max_days: int
    note_date_policy: str

    @classmethod
    def from_config(cls, config: DeidcodeConfig) -> NoteSettings:
        return cls(
            date_shift_min_days=config.keys.date_shift_min_days,
            date_shift_max_days=config.keys.date_shift_max_days,
            note_date_policy=config.output.note_date,
        )


def entity_step(config: DeidcodeConfig) -> EntityStep | None:
    entities = config.entities
    if not entities.enabled:
        return None
    return EntityStep.build(
        model=entities.model,
        options=entities.options,
        rules=entities.rules,
        sections=entities.sections,
        bundled_rules=entities.bundled_rules,
    )


def coding_step(config: DeidcodeConfig) -> CodingStep | None:
    coding = config.coding
    if not coding.enabled:
        return None
    return CodingStep.build(
        include_negated=coding.include_negated,
        include_uncertain=coding.include_uncertain,
        historical=coding.historical,
        threshold=coding.threshold,
        max_codes_per_note=coding.max_codes_per_note,
        max_candidates_per_note=coding.max_candidates_per_note,
        model=coding.model,
    )


@dataclass(frozen=True)
class DeidComponents:
    """Detectors, redaction policy and column rules of one run."""

    # Every configured detector, in config order (the order audit rows list them).
    detectors: tuple[Detector, ...]
    policy: RedactionPolicy
    columns: ColumnRelease
    settings: NoteSettings
    # Applied in order to every field's raw spans, before they merge.
    filters: tuple[SpanFilter, ...] = ()
    # The clinical entity step, or None where the config turns it off.
    entities: EntityStep | None = None
    # The coding step (needs the entity step), or None where the config turns it off.
    coding: CodingStep | None = None

    def __post_init__(self) -> None:
        if self.coding is not None and self.entities is None:
            # The config refuses this with a message; this guards code that builds parts.
            raise ValueError("the coding step needs the entity step")

    @classmethod
    def from_config(cls, config: DeidcodeConfig) -> DeidComponents:
        redaction = config.redaction
        return cls(
            detectors=tuple(
                build_detectors([spec.model_dump() for spec in config.detection.detectors])
            ),
            policy=RedactionPolicy.from_config(
                redaction.default, redaction.phi_types, redaction.subtypes
            ),
            columns=ColumnRelease.from_policies(config.input.column_policies),
            settings=NoteSettings.from_config(config),
            filters=tuple(build_filters(spec.model_dump() for spec in config.detection.filters)),
            entities=entity_step(config),
            coding=coding_step(config),
        )

    @property
    def in_step_detectors(self) -> tuple[Detector, ...]:
        """The detectors the note step calls itself."""
        return tuple(d for d in self.detectors if not d.batched)

    @property
    def model_detectors(self) -> tuple[Detector, ...]:
        """Batched detectors: each runs as its own RunInference step before the note
        step, which fails a note that lacks any of their results."""
        return tuple(d for d in self.detectors if d.batched)

    @property
    def reserves_words(self) -> bool:
        """True where an operator reads surrogates of words from the patient's book: the
        run then redacts one patient at a time, against the surrogate ledger."""
        operators = (*self.policy.operators(), *self.columns.operators.values())
        return any(
            type(operator).words_to_reserve is not Operator.words_to_reserve
            for operator in operators
        )

    @property
    def expected_models(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.model_detectors)

    def load(self) -> None:
        """Load the in-step detectors' and the filters' resources; once per worker."""
        for detector in self.in_step_detectors:
            detector.load()
        for span_filter in self.filters:
            span_filter.load()
