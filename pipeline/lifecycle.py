"""One run lifecycle for every job: check the output, stage, run Beam, fill empty shards,
write the manifest, publish, clean up.

A job builds its pipeline into ``StagedRun.staging``, verifies its own counts,
and calls ``publish`` with its manifest fields. Any exception inside
``staged_run`` removes the staging directory, so a failed run leaves neither
``_SUCCESS`` nor partial tables, and a published run always has a manifest.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics.metric import MetricsFilter

from pipeline.failures import describe_os_error, existing_ancestor
from pipeline.manifest import describe_outputs, library_versions, write_manifest
from pipeline.options import beam_options, quiet_local_workers
from pipeline.signals import stop_if_signalled
from transforms.io import files
from transforms.io.sinks import fill_empty_shards


class OutputDirError(ValueError):
    """The output directory cannot be used."""


class RunVerificationError(RuntimeError):
    """The run's outputs do not account for every input record."""


class RunThresholdError(RuntimeError):
    """The run finished and published its tables, but is not fit to use: too few
    records, or too many quarantined. No ``_SUCCESS`` was written."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_output_dir(path: str, overwrite: bool) -> None:
    if files.is_remote(path):
        if files.list_files(path) and not overwrite:
            raise OutputDirError(f"output {path} is not empty; pass --overwrite to replace it")
        return
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputDirError(f"output {path} exists and is not a directory")
    ancestor = existing_ancestor(os.path.dirname(os.path.abspath(path)))
    if not os.path.isdir(ancestor):
        raise OutputDirError(
            f"output {path} cannot be created: {ancestor} is a file, not a directory"
        )
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise OutputDirError(
            f"output directory {path} is not empty; pass --overwrite to replace it"
        )


def committed_counter(result: beam.runners.runner.PipelineResult, name: str) -> int:
    """A pipeline counter's committed total, summed over every step that incremented it."""
    counters = result.metrics().query(MetricsFilter().with_name(name))["counters"]
    return sum(counter.committed or 0 for counter in counters)


@dataclass(frozen=True)
class StagedRun:
    """A run in progress: its id, and the staging directory beside its output."""

    run_id: str
    started: dt.datetime
    output: str
    staging: str

    def table_dir(self, table: str) -> str:
        return files.join(self.staging, table)

    def run_pipeline(
        self, beam_args: Sequence[str], build: Callable[[beam.Pipeline], None]
    ) -> beam.runners.runner.PipelineResult:
        """Build the job's graph with ``build`` and run it to completion."""
        options = beam_options(list(beam_args))
        pipeline = beam.Pipeline(options=options)
        build(pipeline)
        # A signal whose exception a library swallowed during setup (a migration, a model
        # load) must stop the run here, not after the whole pipeline has run.
        stop_if_signalled()
        with quiet_local_workers(options):
            result = pipeline.run()
            result.wait_until_finish()
        stop_if_signalled()
        return result

    def fill_empty_tables(
        self, schemas: Mapping[str, pa.Schema], *, num_shards: int, compression_level: int
    ) -> None:
        """An empty file for each shard no row reached, so every table has all its shards."""
        for table, schema in schemas.items():
            fill_empty_shards(
                self.table_dir(table), schema, num_shards, compression_level=compression_level
            )

    def publish(
        self, manifest: Mapping[str, Any], tables: Sequence[str], *, success: bool = True
    ) -> None:
        """Write manifest.json (the job's fields plus the run's own), move the staged run
        into place, then write ``_SUCCESS`` last; without ``success`` the tables are
        published for inspection but no ``_SUCCESS`` marks them usable."""
        stop_if_signalled()  # a run asked to stop never publishes
        complete = {
            **manifest,
            "run_id": self.run_id,
            "started_at": self.started.isoformat(),
            "finished_at": dt.datetime.now(dt.UTC).isoformat(),
            "versions": library_versions(),
            "outputs": describe_outputs(self.staging, tuple(tables)),
        }
        write_manifest(files.join(self.staging, "manifest.json"), complete)
        if files.is_remote(self.output):
            # No rename of a prefix in object stores: the old run's objects go first
            # (its _SUCCESS before anything, so it never reads as whole while it
            # goes), then each staged object is moved. _SUCCESS, written last, is
            # what marks the new run usable.
            files.delete_file(files.join(self.output, "_SUCCESS"))
            files.delete_tree(self.output)
            files.move_tree(self.staging, self.output)
        elif os.path.isdir(self.output):
            retired = f"{self.staging}.replaced"
            os.rename(self.output, retired)
            os.rename(self.staging, self.output)
            shutil.rmtree(retired)
        else:
            os.rename(self.staging, self.output)
        if success:
            # The run id, not an empty file: object stores refuse an empty multipart
            # upload (Beam's S3 writer), and the id ties the marker to its manifest.
            marker = files.join(self.output, "_SUCCESS")
            files.write_bytes(marker, f"{self.run_id}\n".encode())


@contextmanager
def staged_run(
    output: str, *, overwrite: bool, started: dt.datetime | None = None
) -> Iterator[StagedRun]:
    """Check ``output``, create a staging directory beside it, and remove that
    directory if the block raises (the published output is left as it was)."""
    output = files.absolute(output).rstrip("/")
    check_output_dir(output, overwrite)
    started = started or dt.datetime.now(dt.UTC)
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    parent = files.dirname(output)
    staging = files.join(parent, f".{files.basename(output)}.staging-{run_id}")
    try:
        if not files.is_remote(output):
            os.makedirs(parent, exist_ok=True)
            os.makedirs(staging, mode=0o750)
    except OSError as exc:
        raise OutputDirError(
            f"cannot create the staging directory for output {output}: {describe_os_error(exc)}"
        ) from None
    try:
        yield StagedRun(run_id, started, output, staging)
    except BaseException:
        files.delete_tree(staging)
        raise
