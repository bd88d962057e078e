"""Assemble the de-identification pipeline graph. Each step is a thin Beam wrapper."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import apache_beam as beam

from pipeline import progress
from schemas.config import DeidcodeConfig, InputConfig
from schemas.tables import (
    AUDIT_SCHEMA,
    CODES_SCHEMA,
    ENTITIES_SCHEMA,
    OMOP_NOTE_NLP_SCHEMA,
    OMOP_NOTE_SCHEMA,
    PHI_SPANS_SCHEMA,
    QUARANTINE_SCHEMA,
    SURROGATE_LEDGER_SCHEMA,
    notes_schema,
)
from transforms.core.hidden_imports import ml_frameworks_hidden
from transforms.core.keyed import RunKeys, pseudonymize
from transforms.core.records import AnnotatedNote, Note, Quarantined, RawRecord
from transforms.deid.beam import DeidentifyNotes, DeidentifyPatients
from transforms.deid.components import DeidComponents
from transforms.deid.omop import OmopSettings
from transforms.deid.rows import quarantine_audit_row
from transforms.ingest.validate import resolve_duplicates, validate_record
from transforms.io import files
from transforms.io.readers import ReadOptions
from transforms.io.reading import ReadAndParse
from transforms.io.sinks import WriteParquetShards, WriteProtectedJsonl

with ml_frameworks_hidden():  # Beam's RunInference imports torch for a GPU model manager
    from apache_beam.ml.inference.base import RunInference

RECORDS_READ = "records_read"
TABLES = ("notes", "phi_spans", "entities", "codes", "quarantine", "audit")
# The OMOP CDM copy, written with output.omop.
OMOP_TABLES = {"omop/note": OMOP_NOTE_SCHEMA, "omop/note_nlp": OMOP_NOTE_NLP_SCHEMA}
# Staged for the audit database, never published with the tables.
LEDGER_DIR = "surrogate_ledger"
# Staged for the balance check (records read per file), never published.
READ_COUNTS_DIR = "read_counts"


def run_tables(config: DeidcodeConfig) -> tuple[str, ...]:
    """The tables a run with ``config`` writes and publishes."""
    return TABLES + (tuple(OMOP_TABLES) if config.output.omop.enabled else ())


@dataclass(frozen=True)
class PipelinePlan:
    files: list[str]
    fmt: str
    config: DeidcodeConfig
    components: DeidComponents
    keys: RunKeys
    run_id: str
    staging_dir: str
    quarantine_text_dir: str | None
    detector_descriptions: tuple[dict[str, str], ...] = ()
    # The surrogate ledger as the run found it (a Parquet file), where the policy
    # gives words surrogates; each patient's notes are then redacted together.
    ledger_file: str | None = None
    read_options: ReadOptions = ReadOptions()
    # output.num_shards, with "auto" resolved from the input's size.
    num_shards: int = 4
    # The OMOP mapping's key and date, where output.omop is on.
    omop: OmopSettings | None = None


def _validate_batch(batch: list[RawRecord], config: InputConfig):
    for raw in batch:
        yield from _split_valid(validate_record(raw, config))


def _split_valid(item: Note | Quarantined):
    if isinstance(item, Quarantined):
        yield beam.pvalue.TaggedOutput("quarantine", item)
    else:
        yield item


def _deidentify(pipeline: beam.Pipeline, annotated, plan: PipelinePlan):
    """Step 5: one note at a time, or one patient at a time where surrogates need
    the patient's words reserved together against the ledger."""
    settings = {
        "components": plan.components,
        "keys": plan.keys,
        "run_id": plan.run_id,
        "detector_descriptions": plan.detector_descriptions,
        "omop": plan.omop,
    }
    if plan.ledger_file is None:
        return annotated | "Deidentify" >> beam.ParDo(DeidentifyNotes(**settings)).with_outputs(
            *DeidentifyNotes.TAGS, main="notes"
        )
    pseudonym_key = plan.keys.patient_id
    by_patient = annotated | "KeyByPatient" >> beam.Map(
        lambda item: (pseudonymize(pseudonym_key, item.note.patient_id), item)
    )
    ledger = (
        pipeline
        | "ReadLedger" >> beam.io.ReadFromParquet(plan.ledger_file)
        | "KeyLedger" >> beam.Map(lambda row: (row["patient_id"], row))
    )
    deid = (
        {"notes": by_patient, "ledger": ledger}
        | "GroupByPatient" >> beam.CoGroupByKey()
        | "Deidentify"
        >> beam.ParDo(DeidentifyPatients(**settings)).with_outputs(
            *DeidentifyPatients.TAGS, main="notes"
        )
    )
    _ = deid[DeidentifyPatients.LEDGER] | "WriteLedger" >> WriteParquetShards(
        directory=files.join(plan.staging_dir, LEDGER_DIR),
        schema=SURROGATE_LEDGER_SCHEMA,
        shard_key=lambda row: row["patient_id"],
        sort_key=lambda row: (row["patient_id"], row["word_digest"]),
        num_shards=plan.num_shards,
        compression_level=plan.config.output.compression_level,
    )
    return deid


def build_pipeline(pipeline: beam.Pipeline, plan: PipelinePlan) -> None:
    config = plan.config
    out = plan.staging_dir
    num_shards = plan.num_shards
    level = config.output.compression_level

    validated = pipeline | "ReadExport" >> ReadAndParse(
        files=plan.files,
        fmt=plan.fmt,
        counter=RECORDS_READ,
        parse_batch=functools.partial(_validate_batch, config=config.input),
        options=plan.read_options,
        counts_dir=files.join(out, READ_COUNTS_DIR),
        batch_size=1,  # a note can be large: validate each as soon as it is read
    )
    _ = (
        (validated.ok, validated.quarantine)
        | "AllRead" >> beam.Flatten()
        | "ProgressRead" >> beam.Map(progress.count, name=progress.READ)
    )
    unique = (
        validated.ok
        | "KeyByNoteId" >> beam.Map(lambda note: (note.note_id, note))
        | "GroupByNoteId" >> beam.GroupByKey()
        | "ResolveDuplicates"
        >> beam.FlatMapTuple(lambda key, notes: resolve_duplicates(key, list(notes)))
        | "SplitDuplicates" >> beam.FlatMap(_split_valid).with_outputs("quarantine", main="notes")
    )
    annotated = unique.notes | "Annotate" >> beam.Map(AnnotatedNote)
    # Each model detector runs as its own RunInference step, in config order.
    for detector in plan.components.model_detectors:
        annotated = annotated | f"Model[{detector.name}]" >> RunInference(detector.handler())
    if plan.components.entities is not None:
        # Step 4, on the original text; the note step projects what it finds (step 6).
        annotated = annotated | "Entities" >> RunInference(plan.components.entities.handler())
    deid = _deidentify(pipeline, annotated, plan)

    quarantined = (
        validated.quarantine,
        unique.quarantine,
        deid[DeidentifyNotes.QUARANTINE],
    ) | "AllQuarantine" >> beam.Flatten()
    _ = deid.notes | "ProgressReleased" >> beam.Map(progress.count, name=progress.RELEASED)
    _ = quarantined | "ProgressQuarantined" >> beam.Map(progress.count, name=progress.QUARANTINED)
    audit = (
        deid[DeidentifyNotes.AUDIT],
        quarantined | "QuarantineAudit" >> beam.Map(quarantine_audit_row, run_id=plan.run_id),
    ) | "AllAudit" >> beam.Flatten()

    record_key = lambda row: f"{row['source_file']}#{row['record_number']}"  # noqa: E731
    record_order = lambda row: (row["source_file"], row["record_number"])  # noqa: E731
    _ = deid.notes | "WriteNotes" >> WriteParquetShards(
        directory=files.join(out, "notes"),
        schema=notes_schema(config.input.released_columns()),
        shard_key=lambda row: row["note_id"],
        sort_key=lambda row: row["note_id"],
        num_shards=num_shards,
        compression_level=level,
    )
    _ = deid[DeidentifyNotes.SPANS] | "WriteSpans" >> WriteParquetShards(
        directory=files.join(out, "phi_spans"),
        schema=PHI_SPANS_SCHEMA,
        shard_key=lambda row: row["note_id"],
        sort_key=lambda row: (row["note_id"], row["start"], row["end"]),
        num_shards=num_shards,
        compression_level=level,
    )
    _ = deid[DeidentifyNotes.ENTITIES] | "WriteEntities" >> WriteParquetShards(
        directory=files.join(out, "entities"),
        schema=ENTITIES_SCHEMA,
        shard_key=lambda row: row["note_id"],
        sort_key=lambda row: (row["note_id"], row["start"], row["end"], row["label"]),
        num_shards=num_shards,
        compression_level=level,
    )
    _ = deid[DeidentifyNotes.CODES] | "WriteCodes" >> WriteParquetShards(
        directory=files.join(out, "codes"),
        schema=CODES_SCHEMA,
        shard_key=lambda row: row["note_id"],
        sort_key=lambda row: (row["note_id"], row["rank"]),
        num_shards=num_shards,
        compression_level=level,
    )
    _ = (
        quarantined
        | "QuarantineRows" >> beam.Map(lambda item: item.row())
        | "WriteQuarantine"
        >> WriteParquetShards(
            directory=files.join(out, "quarantine"),
            schema=QUARANTINE_SCHEMA,
            shard_key=record_key,
            sort_key=record_order,
            num_shards=num_shards,
            compression_level=level,
        )
    )
    _ = audit | "WriteAudit" >> WriteParquetShards(
        directory=files.join(out, "audit"),
        schema=AUDIT_SCHEMA,
        shard_key=record_key,
        sort_key=record_order,
        num_shards=num_shards,
        compression_level=level,
    )
    if plan.omop is not None:
        _ = deid[DeidentifyNotes.OMOP_NOTE] | "WriteOmopNote" >> WriteParquetShards(
            directory=files.join(out, "omop", "note"),
            schema=OMOP_NOTE_SCHEMA,
            shard_key=lambda row: str(row["note_id"]),
            sort_key=lambda row: row["note_id"],
            num_shards=num_shards,
            compression_level=level,
        )
        _ = deid[DeidentifyNotes.OMOP_NOTE_NLP] | "WriteOmopNoteNlp" >> WriteParquetShards(
            directory=files.join(out, "omop", "note_nlp"),
            schema=OMOP_NOTE_NLP_SCHEMA,
            shard_key=lambda row: str(row["note_id"]),
            sort_key=lambda row: (row["note_id"], row["note_nlp_id"]),
            num_shards=num_shards,
            compression_level=level,
        )
    if plan.quarantine_text_dir:
        _ = (
            quarantined
            | "ProtectedRows" >> beam.Map(lambda item: {**item.row(), "fields": item.fields})
            | "WriteProtectedQuarantine"
            >> WriteProtectedJsonl(directory=plan.quarantine_text_dir, num_shards=num_shards)
        )
