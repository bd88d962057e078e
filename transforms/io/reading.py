"""Reading export files in a pipeline: one step that reads, counts and parses."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from schemas.tables import READ_COUNTS_SCHEMA
from transforms.core.records import RawRecord
from transforms.io.readers import (
    DEFAULT_READ_OPTIONS,
    ReadOptions,
    ReadSplit,
    plan_splits,
    read_records,
)
from transforms.io.sinks import WriteParquetShards

READ_COUNTS = "read_counts"


class ReadAndParse(beam.PTransform):
    """Files → what ``parse_batch`` makes of each batch of their records: parsed
    elements, and quarantine rows tagged ``quarantine``.

    A large file is first cut into splits (``plan_splits``) that workers read
    apart; a split's records carry the numbers a whole-file read gives them.
    Reading and parsing happen in one step so that raw records never cross a
    stage boundary (they would be pickled one by one). Every record read is
    counted under ``counter`` (for progress), and each file's count is written to
    ``counts_dir`` (one row per file, ``READ_COUNTS_SCHEMA``): the balance check
    reads that, because a runner may drop metrics.
    """

    def __init__(
        self,
        *,
        files: list[str],
        fmt: str,
        counter: str,
        parse_batch: Callable[[list[RawRecord]], Iterable[Any]],
        batch_size: int = 5000,
        options: ReadOptions = DEFAULT_READ_OPTIONS,
        counts_dir: str | None = None,
        source_names: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.files, self.fmt, self.counter = files, fmt, counter
        self.parse_batch, self.batch_size, self.options = parse_batch, batch_size, options
        self.counts_dir = counts_dir
        # What a file is called in the records' source_file, where its path is only
        # where it was staged (a scored run's codes, staged as a CSV).
        self.source_names = dict(source_names or {})

    # No return annotation: Beam (2.78) logs a WARNING for every expand() whose
    # return type is not a PCollection, PDone or None, once per run, on stderr.
    def expand(self, pbegin: beam.pvalue.PBegin):
        fmt, batch_size, parse_batch = self.fmt, self.batch_size, self.parse_batch
        options = self.options
        counter = Metrics.counter("deidcode", self.counter)

        source_names = self.source_names

        def read(split: ReadSplit):
            path = source_names.get(split.path, split.path)
            batch: list[RawRecord] = []
            records = 0
            for record in read_records(split.path, fmt, options, split=split):
                if path != split.path:
                    record = dataclasses.replace(record, source_file=path)
                counter.inc()
                records += 1
                batch.append(record)
                if len(batch) == batch_size:
                    yield from parse_batch(batch)
                    batch = []
            if batch:
                yield from parse_batch(batch)
            yield beam.pvalue.TaggedOutput(READ_COUNTS, (path, records))

        parsed = (
            pbegin
            | "Files" >> beam.Create(self.files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "PlanSplits" >> beam.FlatMap(plan_splits, fmt, options)
            | "SpreadSplits" >> beam.Reshuffle()
            | "ReadParse" >> beam.FlatMap(read).with_outputs("quarantine", READ_COUNTS, main="ok")
        )
        if self.counts_dir is not None:
            _ = (
                parsed[READ_COUNTS]
                | "SumSplits" >> beam.CombinePerKey(sum)
                | "CountRows" >> beam.MapTuple(lambda path, n: {"source_file": path, "records": n})
                | "WriteReadCounts"
                >> WriteParquetShards(
                    directory=self.counts_dir,
                    schema=READ_COUNTS_SCHEMA,
                    shard_key=lambda row: row["source_file"],
                    sort_key=lambda row: row["source_file"],
                    num_shards=1,
                )
            )
        return parsed
