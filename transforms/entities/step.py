"""Step 4 of the data flow: find clinical entities on the original text and assert them.

``EntityStep`` is built and checked on the driver from the ``entities`` config
(a bad option or rule file stops the run with a message); its handler runs the
model through RunInference, then ConText on each note. A note whose model call
or assertion fails gets a ``ModelFailure``, and the note step quarantines it
(``entities_failed``): fail closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from onnx_models.registry import load_bundle
from onnx_models.runtime.classifier import DocumentError, NerConfigError
from transforms.core.entities import ClinicalEntity
from transforms.core.hidden_imports import ml_frameworks_hidden
from transforms.core.logging_filters import drop_beam_memory_warning
from transforms.core.records import AnnotatedNote, EntityResult, ModelFailure
from transforms.entities.assertion import (
    BUNDLED_RULES,
    BUNDLED_SECTIONS,
    DATA_DIR,
    AssertionRuleError,
    ContextAsserter,
)
from transforms.entities.model import ClinicalNerModel, EntitySettings, FoundMention

with ml_frameworks_hidden():  # Beam's RunInference imports torch for a GPU model manager
    from apache_beam.ml.inference.base import ModelHandler

BUNDLED_STOP_WORDS = DATA_DIR / "not_entities.txt"

drop_beam_memory_warning()  # this module is imported in every worker that runs a model


def bundled_stop_words() -> list[str]:
    lines = BUNDLED_STOP_WORDS.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=8)
def _asserter(rule_files: tuple[Path, ...], section_files: tuple[Path, ...]) -> ContextAsserter:
    return ContextAsserter.from_files(rule_files, section_files)


class EntityConfigError(ValueError):
    """The entities config cannot work; the message names the key or file."""


def entity_settings(model: str, options: Mapping[str, Any]) -> EntitySettings:
    known = sorted(set(EntitySettings.__dataclass_fields__) - {"model"})
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise EntityConfigError(f"entities.options: unknown option(s) {unknown}; known: {known}")
    values = dict(options)
    if "labels" in values:
        values["labels"] = tuple(str(label).upper() for label in values["labels"])
    stop_words = values.pop("stop_words", None)
    values["stop_words"] = frozenset(
        bundled_stop_words() if stop_words is None else (str(w).lower() for w in stop_words)
    )
    try:
        return EntitySettings(model=model, **values)
    except (NerConfigError, TypeError) as exc:
        raise EntityConfigError(f"entities.options: {exc}") from None


@dataclass(frozen=True)
class EntityStep:
    """The entity step's settings and rule files, picklable to the workers."""

    settings: EntitySettings
    rule_files: tuple[Path, ...]
    section_files: tuple[Path, ...]

    @classmethod
    def build(
        cls,
        *,
        model: str,
        options: Mapping[str, Any],
        rules: Sequence[str] = (),
        sections: Sequence[str] = (),
        bundled_rules: bool = True,
    ) -> EntityStep:
        bundled = (BUNDLED_RULES,) if bundled_rules else ()
        bundled_sections = (BUNDLED_SECTIONS,) if bundled_rules else ()
        step = cls(
            settings=entity_settings(model, options),
            rule_files=bundled + tuple(Path(p) for p in rules),
            section_files=bundled_sections + tuple(Path(p) for p in sections),
        )
        step.asserter()  # a rule file that does not load stops the run here
        return step

    def asserter(self) -> ContextAsserter:
        """The step's ConText rules, loaded once per process for each set of files."""
        try:
            return _asserter(self.rule_files, self.section_files)
        except AssertionRuleError as exc:
            raise EntityConfigError(f"entities rules: {exc}") from None

    def handler(self) -> ClinicalEntityModelHandler:
        return ClinicalEntityModelHandler(step=self)

    def describe(self) -> dict[str, str]:
        manifest = load_bundle(self.settings.model, verify=False).manifest
        return {
            "model": manifest.name,
            "model_version": manifest.version,
            "rule_files": ",".join(p.name for p in self.rule_files),
        }


class EntityFinder:
    """A loaded model and asserter: mentions, then ConText, for each text."""

    def __init__(self, model: ClinicalNerModel, asserter: ContextAsserter) -> None:
        self.model = model
        self.asserter = asserter

    def find(self, texts: Sequence[str]) -> list[EntityResult]:
        results: list[EntityResult] = []
        for text, found in zip(texts, self.model.find(texts), strict=True):
            if isinstance(found, DocumentError):
                results.append(ModelFailure(f"entities {self.model.model_name}: {found}"))
                continue
            try:
                results.append(self._asserted(text, found))
            except Exception as exc:  # noqa: BLE001 - only the type: a message may quote text
                results.append(ModelFailure(f"assertion: {type(exc).__name__}"))
        return results

    def _asserted(self, text: str, mentions: list[FoundMention]) -> tuple[ClinicalEntity, ...]:
        assertions = self.asserter.assert_entities(
            text, [(m.start, m.end, m.label) for m in mentions]
        )
        return tuple(
            ClinicalEntity(
                start=mention.start,
                end=mention.end,
                label=mention.label,
                score=mention.score,
                model=self.model.model_name,
                assertion=assertion,
            )
            for mention, assertion in zip(mentions, assertions, strict=True)
        )


class ClinicalEntityModelHandler(ModelHandler[AnnotatedNote, AnnotatedNote, EntityFinder]):
    """Runs the clinical NER model and ConText on batches of notes' original text."""

    def __init__(self, *, step: EntityStep, min_batch_size: int = 1, max_batch_size: int = 64):
        super().__init__()
        self._step = step
        self._batch_kwargs = {"min_batch_size": min_batch_size, "max_batch_size": max_batch_size}

    def load_model(self) -> EntityFinder:
        settings = self._step.settings
        return EntityFinder(
            ClinicalNerModel(load_bundle(settings.model), settings), self._step.asserter()
        )

    def run_inference(
        self,
        batch: Sequence[AnnotatedNote],
        model: EntityFinder,
        inference_args: dict[str, Any] | None = None,
    ) -> Iterable[AnnotatedNote]:
        results = model.find([item.note.text for item in batch])
        for item, result in zip(batch, results, strict=True):
            yield item.with_entities(result)

    def batch_elements_kwargs(self) -> Mapping[str, Any]:
        return self._batch_kwargs

    def get_metrics_namespace(self) -> str:
        return "deidcode_entities"

    def get_num_bytes(self, batch: Sequence[AnnotatedNote]) -> int:
        return sum(len(item.note.text.encode("utf-8")) for item in batch)
