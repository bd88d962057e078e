"""Run one de-identification job: check everything, run Beam, verify, publish.

Order of a run:
1. config, key, inputs and components are checked before Beam starts;
2. the pipeline writes every table into a staging directory beside the output
   (``pipeline.lifecycle``);
3. row counts are verified (records read = notes written + quarantined);
4. the audit database gets the per-note rows and the run row;
5. manifest.json is written, the staging directory is moved into place, and
   ``_SUCCESS`` is written last.
A failure at any step leaves no ``_SUCCESS`` and removes the staging directory.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from apache_beam.io.filesystems import FileSystems

from pipeline import __version__
from pipeline.assembly import (
    LEDGER_DIR,
    OMOP_TABLES,
    READ_COUNTS_DIR,
    RECORDS_READ,
    PipelinePlan,
    build_pipeline,
    run_tables,
)
from pipeline.audit_writer import AuditDatabase, safe_url
from pipeline.inputs import ResolvedInputs, resolve_inputs
from pipeline.keys import load_key
from pipeline.lifecycle import (
    OutputDirError,
    RunThresholdError,
    RunVerificationError,
    StagedRun,
    committed_counter,
    staged_run,
)
from pipeline.manifest import count_by, count_rows, read_counts, table_files
from pipeline.omop_checks import verify_omop
from pipeline.options import beam_options
from pipeline.progress import ProgressSettings, show_progress
from pipeline.signals import failure_reason
from pipeline.stale_runs import DEFAULT_LEASE, StaleRuns, sweep_stale_runs
from schemas.config import DeidcodeConfig, load_config
from schemas.tables import (
    AUDIT_SCHEMA,
    CODES_SCHEMA,
    ENTITIES_SCHEMA,
    PHI_SPANS_SCHEMA,
    QUARANTINE_SCHEMA,
    notes_schema,
)
from transforms.core.keyed import RunKeys, key_fingerprint
from transforms.deid.components import DeidComponents
from transforms.deid.omop import OmopSettings
from transforms.detection.ner.describe import describe_model
from transforms.io import files
from transforms.io.formats import DEFAULT_QUERY_PARTITIONS
from transforms.io.sinks import auto_shard_count

LOGGER = logging.getLogger("deidcode")


@dataclass
class RunRequest:
    input: str
    fmt: str
    output: str
    config_path: str | None = None
    key_file: str | None = None
    audit_db: str | None = None
    overwrite: bool = False
    beam_args: list[str] = field(default_factory=list)
    input_glob: str | None = None  # which files of a directory input to read
    # An OMOP NOTE query: --input is then a database URL, read in this many slices.
    query: str | None = None
    partitions: int = DEFAULT_QUERY_PARTITIONS
    # A run that reads fewer records, or quarantines a larger share, publishes its
    # tables without _SUCCESS and fails (RunThresholdError).
    min_records: int = 1
    max_quarantine_rate: float | None = None
    # Staging directories and 'running' rows older than this are a killed run's.
    stale_after: dt.timedelta = DEFAULT_LEASE
    clean_stale: bool = False
    progress: ProgressSettings = ProgressSettings()


def threshold_failure(
    request: RunRequest, records_read: int, quarantined: int
) -> RunThresholdError | None:
    if records_read < request.min_records:
        return RunThresholdError(
            "too_few_records",
            f"read {records_read} record(s), fewer than --min-records {request.min_records}: "
            "an empty or truncated export?",
        )
    rate = quarantined / records_read if records_read else 0.0
    if request.max_quarantine_rate is not None and rate > request.max_quarantine_rate:
        return RunThresholdError(
            "quarantine_rate_exceeded",
            f"quarantined {quarantined} of {records_read} records ({rate:.1%}), more than "
            f"--max-quarantine-rate {request.max_quarantine_rate:.1%}: see quarantine/",
        )
    return None


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    output: str
    records_read: int
    notes_written: int
    records_quarantined: int
    phi_spans: int = 0
    entities: int | None = None  # None: the entity step was off
    codes: int | None = None  # None: the coding step was off
    quarantine_by_reason: dict[str, int] = field(default_factory=dict)
    skipped_inputs: int = 0
    # Wall-clock seconds of each stage: prepare, setup, pipeline, verify, audit, publish.
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedRun:
    """Everything a run needs, checked before Beam starts."""

    request: RunRequest
    config: DeidcodeConfig
    files: list[str]
    # Files of a directory input that were not read (other formats, hidden files).
    skipped_inputs: list[dict[str, str]]
    components: DeidComponents
    keys: RunKeys
    key_fingerprint: str
    inputs: ResolvedInputs
    # output.num_shards, with "auto" resolved from the input's size.
    num_shards: int
    # Each model detector's files, versions and chosen runtime, for the manifest.
    models: list[dict[str, Any]]


class StageClock:
    """Wall-clock seconds per stage, each lap measured from the one before."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self.seconds: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.seconds[stage] = round(now - self._last, 3)
        self._last = now


def configured_audit_url(request: RunRequest, config: DeidcodeConfig) -> str | None:
    """The audit database named by --audit-db, else by the config's audit.db_url."""
    return request.audit_db or config.audit.db_url


def audit_url(request: RunRequest, config: DeidcodeConfig, output: str) -> str:
    """The audit database a run of ``output`` records in: the configured one, else the
    embedded SQLite file beside the output."""
    return configured_audit_url(request, config) or default_audit_url(output)


def default_audit_url(output: str) -> str:
    """The embedded audit database: a SQLite file beside the output directory, never
    inside staging, so a failed or killed run's row survives the cleanup."""
    return "sqlite:///" + f"{output}.audit.sqlite"


def resolved_shards(config: DeidcodeConfig, inputs: ResolvedInputs) -> int:
    """output.num_shards as a number: "auto" follows the input's size."""
    if config.output.num_shards != "auto":
        return config.output.num_shards
    query = inputs.options.query
    return auto_shard_count(inputs.total_bytes(), fallback=query.partitions if query else 4)


def prepare_run(request: RunRequest) -> PreparedRun:
    """Load and check config, key, inputs and components, so a bad option, a missing
    GPU or an altered model stops the run with a message instead of quarantining
    every note. Model files are checked against their manifests' sha256 here."""
    config = load_config(request.config_path)
    # Beam's filesystems read their settings (an S3 endpoint, credentials) from the
    # pipeline options; inputs are listed and checked here, before the pipeline exists.
    FileSystems.set_options(beam_options(request.beam_args))
    remote_output = request.output is not None and files.is_remote(request.output)
    if remote_output and configured_audit_url(request, config) is None:
        raise OutputDirError(
            f"output {request.output} is in object storage, where the embedded SQLite audit "
            "database cannot live: give --audit-db (or audit.db_url), e.g. a PostgreSQL URL"
        )
    key = load_key(
        key_file=request.key_file,
        env_var=config.keys.env_var,
        min_chars=config.keys.min_key_chars,
    )
    inputs = resolve_inputs(
        request.input,
        request.fmt,
        config,
        input_glob=request.input_glob,
        query=request.query,
        partitions=request.partitions,
    )
    for skipped in inputs.skipped:
        LOGGER.warning("input %s skipped (%s)", skipped["path"], skipped["reason"])
    components = DeidComponents.from_config(config)
    return PreparedRun(
        request=request,
        config=config,
        files=inputs.files,
        skipped_inputs=inputs.skipped,
        inputs=inputs,
        num_shards=resolved_shards(config, inputs),
        components=components,
        keys=RunKeys.derive(key),
        key_fingerprint=key_fingerprint(key),
        models=[describe_model(d.settings) for d in components.model_detectors]
        + ([describe_model(components.entities.settings)] if components.entities else []),
    )


def run_deid(request: RunRequest) -> RunSummary:
    started = dt.datetime.now(dt.UTC)
    clock = StageClock()
    prepared = prepare_run(request)
    clock.lap("prepare")
    with staged_run(request.output, overwrite=request.overwrite, started=started) as run:
        audit_db = AuditDatabase(audit_url(request, prepared.config, run.output))
        LOGGER.info(
            "run %s: %d input file(s), staging in %s", run.run_id, len(prepared.files), run.staging
        )
        try:
            audit_db.prepare()
            stale = sweep_stale_runs(
                run.output,
                current_staging=run.staging,
                lease=request.stale_after,
                clean=request.clean_stale,
                audit_db=audit_db,
            )
            audit_db.start_run(
                run_id=run.run_id,
                started_at=started,
                config_sha256=prepared.config.sha256(),
                key_fingerprint=prepared.key_fingerprint,
                package_version=__version__,
                output_dir=run.output,
            )
            try:
                return _execute(prepared, run, audit_db, stale, clock)
            except RunThresholdError:
                raise  # finished and recorded as failed with its reason; tables published
            except BaseException as exc:
                try:
                    audit_db.fail_run(run.run_id, failure_reason(exc))
                except Exception:  # noqa: BLE001 - the original failure matters more
                    LOGGER.warning(
                        "run %s: could not record the failure in the audit database", run.run_id
                    )
                raise
        finally:
            audit_db.dispose()


def _execute(
    prepared: PreparedRun,
    run: StagedRun,
    audit_db: AuditDatabase,
    stale: StaleRuns,
    clock: StageClock,
) -> RunSummary:
    clock.lap("setup")  # staging, audit database, stale-run sweep
    config = prepared.config
    quarantine_text_dir = None
    if config.output.quarantine_text_dir:
        quarantine_text_dir = os.path.join(
            os.path.abspath(config.output.quarantine_text_dir), run.run_id
        )
    # The same names and versions go to every audit row and to the manifest.
    descriptions = [d.describe() for d in prepared.components.detectors]
    ledger_file = None
    if prepared.components.reserves_words:
        ledger_file = files.join(run.staging, "surrogate_ledger_in.parquet")
        entries = audit_db.export_surrogate_ledger(ledger_file)
        LOGGER.info("run %s: surrogate ledger holds %d entries", run.run_id, entries)
    plan = PipelinePlan(
        files=prepared.files,
        fmt=prepared.request.fmt,
        config=config,
        components=prepared.components,
        keys=prepared.keys,
        run_id=run.run_id,
        staging_dir=run.staging,
        quarantine_text_dir=quarantine_text_dir,
        detector_descriptions=tuple(descriptions),
        ledger_file=ledger_file,
        read_options=prepared.inputs.options,
        num_shards=prepared.num_shards,
        omop=(
            OmopSettings(
                id_key=prepared.keys.omop_id,
                nlp_date=config.output.omop.nlp_date or run.started.date(),
                id_bits=config.output.omop.id_bits,
            )
            if config.output.omop.enabled and prepared.keys.omop_id
            else None
        ),
    )
    with show_progress(run.run_id, prepared.request.progress, prepared.request.beam_args):
        result = run.run_pipeline(
            prepared.request.beam_args, lambda pipeline: build_pipeline(pipeline, plan)
        )
    clock.lap("pipeline")
    run.fill_empty_tables(
        {
            "notes": notes_schema(config.input.released_columns()),
            "phi_spans": PHI_SPANS_SCHEMA,
            "entities": ENTITIES_SCHEMA,
            "codes": CODES_SCHEMA,
            "quarantine": QUARANTINE_SCHEMA,
            "audit": AUDIT_SCHEMA,
            **(OMOP_TABLES if plan.omop else {}),
        },
        num_shards=plan.num_shards,
        compression_level=config.output.compression_level,
    )

    per_input = read_counts(run.table_dir(READ_COUNTS_DIR))
    records_read = sum(per_input.values())
    counted = committed_counter(result, RECORDS_READ)
    if counted and counted != records_read:  # a runner may drop metrics, never add rows
        raise RunVerificationError(
            f"run {run.run_id}: the read step wrote counts for {records_read} records, but its "
            f"counter says {counted}"
        )
    notes_written = count_rows(run.table_dir("notes"))
    quarantined = count_rows(run.table_dir("quarantine"))
    audit_rows = count_rows(run.table_dir("audit"))
    if not records_read == notes_written + quarantined == audit_rows:
        raise RunVerificationError(
            f"run {run.run_id}: records read ({records_read}) != notes written ({notes_written}) "
            f"+ quarantined ({quarantined}), or audit rows ({audit_rows}) differ"
        )

    omop_counts = verify_omop(run.staging, run.run_id) if plan.omop else None
    clock.lap("verify")
    unfit = threshold_failure(prepared.request, records_read, quarantined)
    audit_db.finish_run(
        run.run_id,
        table_files(run.table_dir("audit")),
        ledger_files=table_files(files.join(run.staging, LEDGER_DIR)),
        error=unfit.reason if unfit else None,
        records_read=records_read,
        notes_written=notes_written,
        records_quarantined=quarantined,
    )
    ledger_entries = count_rows(files.join(run.staging, LEDGER_DIR))
    files.delete_tree(run.table_dir(READ_COUNTS_DIR))
    # The ledger lives in the audit database; its staged copies are not run outputs.
    files.delete_tree(files.join(run.staging, LEDGER_DIR))
    if ledger_file is not None:
        files.delete_file(ledger_file)
    clock.lap("audit")
    quarantine_by_reason = count_by(run.table_dir("quarantine"), "reason")
    entity_step = prepared.components.entities
    phi_spans = count_rows(run.table_dir("phi_spans"))
    entities = count_rows(run.table_dir("entities"))
    coding_step = prepared.components.coding
    codes = count_by(run.table_dir("codes"), "status")
    manifest = {
        "config_sha256": config.sha256(),
        "key_fingerprint": prepared.key_fingerprint,
        "detectors": descriptions,
        "span_filters": [f.describe() for f in prepared.components.filters],
        "models": prepared.models,
        "input_format": prepared.request.fmt,
        "num_shards": prepared.num_shards,
        "inputs": prepared.inputs.describe(prepared.keys, per_input),
        "skipped_inputs": prepared.skipped_inputs,
        "counts": {
            "records_read": records_read,
            "notes_written": notes_written,
            "records_quarantined": quarantined,
            "phi_spans": phi_spans,
            "entities": entities,
            "codes": sum(codes.values()),
            "codes_by_status": codes,
            **(omop_counts or {}),
        },
        "entity_step": entity_step.describe() if entity_step else None,
        "coding_step": coding_step.describe() if coding_step else None,
        "redaction": {
            **prepared.components.policy.describe(),
            "columns": {c: p.type for c, p in sorted(config.input.column_policies.items())},
            "note_date": config.output.note_date,
        },
        "surrogate_ledger": {
            "used": ledger_file is not None,
            "new_entries": ledger_entries,
        },
        "quarantine_by_reason": quarantine_by_reason,
        "audit_db": safe_url(audit_db.url),
        "threshold_failure": unfit.reason if unfit else None,
        "stale_runs": stale.to_manifest(),
        "stage_seconds": dict(clock.seconds),
    }
    audit_db.dispose()
    run.publish(manifest, run_tables(config), success=unfit is None)
    clock.lap("publish")
    if unfit is not None:
        raise unfit
    LOGGER.info(
        "run %s: read %d, wrote %d notes, quarantined %d",
        run.run_id,
        records_read,
        notes_written,
        quarantined,
    )
    return RunSummary(
        run.run_id,
        run.output,
        records_read,
        notes_written,
        quarantined,
        phi_spans=phi_spans,
        entities=entities if entity_step else None,
        codes=sum(codes.values()) if coding_step else None,
        quarantine_by_reason=quarantine_by_reason,
        skipped_inputs=len(prepared.skipped_inputs),
        stage_seconds=dict(clock.seconds),
    )
