"""``DeidentifyNotes``: the thin DoFn around ``deidentify_note``."""

from __future__ import annotations

import json

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.core.keyed import RunKeys
from transforms.core.records import AnnotatedNote, Note
from transforms.deid.components import DeidComponents
from transforms.deid.note import DeidOutcome, deidentify_note
from transforms.deid.omop import OmopSettings, note_nlp_rows, omop_note_row
from transforms.deid.patient import deidentify_patient


class DeidentifyNotes(beam.DoFn):
    """De-identifies each note; the components arrive built and are loaded once per worker."""

    SPANS = "spans"
    ENTITIES = "entities"
    CODES = "codes"
    AUDIT = "audit"
    QUARANTINE = "quarantine"
    OMOP_NOTE = "omop_note"
    OMOP_NOTE_NLP = "omop_note_nlp"
    TAGS: tuple[str, ...] = (SPANS, ENTITIES, CODES, AUDIT, QUARANTINE, OMOP_NOTE, OMOP_NOTE_NLP)

    def __init__(
        self,
        *,
        components: DeidComponents,
        keys: RunKeys,
        run_id: str,
        detector_descriptions: list[dict[str, str]] | None = None,
        omop: OmopSettings | None = None,
    ) -> None:
        self._components = components
        self._omop = omop
        self._descriptions = (
            json.dumps(detector_descriptions, sort_keys=True) if detector_descriptions else None
        )
        self._keys = keys
        self._run_id = run_id
        self._released = Metrics.counter("deidcode", "notes_released")
        self._failed = Metrics.counter("deidcode", "notes_failed_deid")

    def setup(self) -> None:
        self._components.load()

    def process(self, item: Note | AnnotatedNote):  # type: ignore[override]
        annotated = item if isinstance(item, AnnotatedNote) else AnnotatedNote(item)
        outcome = deidentify_note(
            annotated.note,
            components=self._components,
            keys=self._keys,
            run_id=self._run_id,
            model_results=annotated.model_results,
            entities=annotated.entities,
            detector_descriptions=self._descriptions,
        )
        yield from self._emit(outcome)

    def _emit(self, outcome: DeidOutcome):
        if outcome.quarantined is not None:
            self._failed.inc()
            yield beam.pvalue.TaggedOutput(self.QUARANTINE, outcome.quarantined)
            return
        self._released.inc()
        yield outcome.note_row
        for row in outcome.span_rows:
            yield beam.pvalue.TaggedOutput(self.SPANS, row)
        for row in outcome.entity_rows:
            yield beam.pvalue.TaggedOutput(self.ENTITIES, row)
        for row in outcome.code_rows:
            yield beam.pvalue.TaggedOutput(self.CODES, row)
        if self._omop is not None:
            yield beam.pvalue.TaggedOutput(
                self.OMOP_NOTE, omop_note_row(outcome.note_row, self._omop)
            )
            for row in note_nlp_rows(outcome.note_row, outcome.entity_rows, self._omop):
                yield beam.pvalue.TaggedOutput(self.OMOP_NOTE_NLP, row)
        yield beam.pvalue.TaggedOutput(self.AUDIT, outcome.audit_row)


class DeidentifyPatients(DeidentifyNotes):
    """De-identifies one patient's notes together, for policies with word surrogates.

    Input: ``(patient pseudonym, {"notes": [AnnotatedNote], "ledger": [row]})`` from a
    CoGroupByKey with the surrogate ledger. Every note is detected first; the
    words of all of them are reserved at once against the ledger
    (``deidentify_patient``), then each note is redacted with that book. The
    ledger's new entries go to ``LEDGER``.
    """

    LEDGER = "ledger"
    TAGS = (*DeidentifyNotes.TAGS, LEDGER)

    def process(self, element):  # type: ignore[override]
        patient, grouped = element
        result = deidentify_patient(
            patient,
            list(grouped["notes"]),
            ledger={row["word_digest"]: row["surrogate"] for row in grouped["ledger"]},
            components=self._components,
            keys=self._keys,
            run_id=self._run_id,
            detector_descriptions=self._descriptions,
        )
        for outcome in result.outcomes:
            yield from self._emit(outcome)
        for row in result.ledger_rows:
            yield beam.pvalue.TaggedOutput(self.LEDGER, row)
