"""Run one de-identification job: check everything, run Beam, verify, publish.

Order of a run:
1. config, key, inputs and output directory are checked before Beam starts;
2. the pipeline writes every table into a staging directory beside the output;
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
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Any

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter

from pipeline import __version__
from pipeline.assembly import RECORDS_READ, TABLES, PipelinePlan, build_pipeline
from pipeline.audit_writer import AuditDatabase, safe_url
from pipeline.keys import load_key
from pipeline.manifest import (
    count_by,
    count_rows,
    describe_outputs,
    library_versions,
    table_files,
    write_manifest,
)
from pipeline.options import beam_options
from schemas.config import DeidcodeConfig, load_config
from schemas.tables import AUDIT_SCHEMA, PHI_SPANS_SCHEMA, QUARANTINE_SCHEMA, notes_schema
from transforms.columns import ColumnRelease
from transforms.deid import RunKeys
from transforms.detectors import Detector, build_detectors
from transforms.keyed import derive_key, key_fingerprint
from transforms.ner.describe import describe_model
from transforms.parquet_sink import fill_empty_shards
from transforms.readers import check_inputs, expand_inputs, file_digest
from transforms.redaction import RedactionPolicy

LOGGER = logging.getLogger("deidcode")


class OutputDirError(ValueError):
    """The output directory cannot be used."""


class RunVerificationError(RuntimeError):
    """The run's outputs do not account for every input record."""


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


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    output: str
    records_read: int
    notes_written: int
    records_quarantined: int


def check_output_dir(path: str, overwrite: bool) -> None:
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputDirError(f"output {path} exists and is not a directory")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputDirError(
            f"output directory {path} is not empty; pass --overwrite to replace it"
        )


def _check_components(config: DeidcodeConfig) -> tuple[list[Detector], list[dict[str, Any]]]:
    """Build detectors and operators once now, so a bad option fails before Beam starts.

    Model detectors have every file checked against its manifest's sha256 and
    their runtime (device, variant) chosen here, so a missing GPU or an altered
    model stops the run with a message instead of quarantining every note.
    """
    detectors = build_detectors([spec.model_dump() for spec in config.detection.detectors])
    RedactionPolicy.from_config(
        config.redaction.default, config.redaction.phi_types, config.redaction.subtypes
    )
    ColumnRelease.from_policies(config.input.column_policies)
    models = []
    for detector in detectors:
        if detector.batched:
            models.append(describe_model(detector.settings))
    return detectors, models


def committed_counter(result: beam.runners.runner.PipelineResult, name: str) -> int:
    """A pipeline counter's committed total, summed over every step that incremented it."""
    counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(counter.committed or 0 for counter in counters)


def new_staging(output: str, started: dt.datetime) -> tuple[str, str]:
    """A run id, and a new staging directory beside ``output`` for the run to write into
    before ``publish_staging`` moves it into place."""
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    parent = os.path.dirname(output)
    os.makedirs(parent, exist_ok=True)
    staging = os.path.join(parent, f".{os.path.basename(output)}.staging-{run_id}")
    os.makedirs(staging, mode=0o750)
    return run_id, staging


def run_deid(request: RunRequest) -> RunSummary:
    started = dt.datetime.now(dt.UTC)
    config = load_config(request.config_path)
    key = load_key(
        key_file=request.key_file,
        env_var=config.keys.env_var,
        min_chars=config.keys.min_key_chars,
    )
    files = expand_inputs(request.input)
    check_inputs(
        files,
        request.fmt,
        list(config.input.columns.required().values()),
        delimiter=config.input.csv_delimiter,
    )
    detectors, models = _check_components(config)
    output = os.path.abspath(request.output)
    check_output_dir(output, request.overwrite)

    run_id, staging = new_staging(output, started)
    audit_url = (
        request.audit_db
        or config.audit.db_url
        or ("sqlite:///" + os.path.join(staging, "audit.sqlite"))
    )
    fingerprint = key_fingerprint(key)
    try:
        audit_db = AuditDatabase(audit_url)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    LOGGER.info("run %s: %d input file(s), staging in %s", run_id, len(files), staging)
    try:
        audit_db.prepare()
        audit_db.start_run(
            run_id=run_id,
            started_at=started,
            config_sha256=config.sha256(),
            key_fingerprint=fingerprint,
            package_version=__version__,
            output_dir=output,
        )
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        audit_db.dispose()
        raise
    try:
        summary = _run_and_publish(
            request,
            config,
            key,
            files,
            detectors=detectors,
            models=models,
            run_id=run_id,
            started=started,
            staging=staging,
            output=output,
            audit_db=audit_db,
            fingerprint=fingerprint,
        )
    except BaseException as exc:
        try:
            audit_db.fail_run(run_id, type(exc).__name__)
        except Exception:  # noqa: BLE001 - the original failure matters more
            LOGGER.warning("run %s: could not record the failure in the audit database", run_id)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        audit_db.dispose()
    return summary


def _run_and_publish(
    request: RunRequest,
    config: DeidcodeConfig,
    key: bytes,
    files: list[str],
    *,
    detectors: list[Detector],
    models: list[dict[str, Any]],
    run_id: str,
    started: dt.datetime,
    staging: str,
    output: str,
    audit_db: AuditDatabase,
    fingerprint: str,
) -> RunSummary:
    quarantine_text_dir = None
    if config.output.quarantine_text_dir:
        quarantine_text_dir = os.path.join(
            os.path.abspath(config.output.quarantine_text_dir), run_id
        )
    # The same names and versions go to every audit row and to the manifest.
    descriptions = [d.describe() for d in detectors]
    plan = PipelinePlan(
        files=files,
        fmt=request.fmt,
        config=config,
        keys=RunKeys(
            patient_id=derive_key(key, "patient_id"),
            date_shift=derive_key(key, "date_shift"),
            hash=derive_key(key, "hash"),
            surrogate=derive_key(key, "surrogate"),
        ),
        run_id=run_id,
        staging_dir=staging,
        quarantine_text_dir=quarantine_text_dir,
        model_detectors=tuple(d for d in detectors if d.batched),
        detector_descriptions=tuple(descriptions),
    )
    pipeline = beam.Pipeline(options=beam_options(request.beam_args))
    build_pipeline(pipeline, plan)
    result = pipeline.run()
    result.wait_until_finish()

    level = config.output.compression_level
    shards = config.output.num_shards
    schemas = {
        "notes": notes_schema(config.input.released_columns()),
        "phi_spans": PHI_SPANS_SCHEMA,
        "quarantine": QUARANTINE_SCHEMA,
        "audit": AUDIT_SCHEMA,
    }
    for table, schema in schemas.items():
        fill_empty_shards(os.path.join(staging, table), schema, shards, compression_level=level)

    records_read = committed_counter(result, RECORDS_READ)
    notes_written = count_rows(os.path.join(staging, "notes"))
    quarantined = count_rows(os.path.join(staging, "quarantine"))
    audit_rows = count_rows(os.path.join(staging, "audit"))
    if not records_read == notes_written + quarantined == audit_rows:
        raise RunVerificationError(
            f"run {run_id}: records read ({records_read}) != notes written ({notes_written}) "
            f"+ quarantined ({quarantined}), or audit rows ({audit_rows}) differ"
        )

    counts = {
        "records_read": records_read,
        "notes_written": notes_written,
        "records_quarantined": quarantined,
        "phi_spans": count_rows(os.path.join(staging, "phi_spans")),
    }
    audit_db.finish_run(
        run_id,
        table_files(os.path.join(staging, "audit")),
        records_read=records_read,
        notes_written=notes_written,
        records_quarantined=quarantined,
    )
    manifest = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "config_sha256": config.sha256(),
        "key_fingerprint": fingerprint,
        "versions": library_versions(),
        "detectors": descriptions,
        "models": models,
        "input_format": request.fmt,
        "inputs": [vars(file_digest(path)) for path in files],
        "counts": counts,
        "quarantine_by_reason": count_by(os.path.join(staging, "quarantine"), "reason"),
        "outputs": describe_outputs(staging, TABLES),
        "audit_db": "audit.sqlite"
        if audit_db.url.startswith("sqlite:///" + staging)
        else safe_url(audit_db.url),
    }
    write_manifest(os.path.join(staging, "manifest.json"), manifest)
    audit_db.dispose()  # close the SQLite file before its directory moves
    publish_staging(staging, output)
    LOGGER.info(
        "run %s: read %d, wrote %d notes, quarantined %d",
        run_id,
        records_read,
        notes_written,
        quarantined,
    )
    return RunSummary(run_id, output, records_read, notes_written, quarantined)


def publish_staging(staging: str, output: str) -> None:
    """Move the staged run into place, then write ``_SUCCESS`` last."""
    if os.path.isdir(output):
        retired = f"{staging}.replaced"
        os.rename(output, retired)
        os.rename(staging, output)
        shutil.rmtree(retired)
    else:
        os.rename(staging, output)
    with open(os.path.join(output, "_SUCCESS"), "w", encoding="utf-8"):
        pass
