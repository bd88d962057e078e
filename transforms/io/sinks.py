"""Deterministic, sharded Parquet output.

Rows are assigned to a fixed number of shards by a stable hash of their key,
and each shard is sorted before it is written, so the same rows always give
the same files byte for byte, whatever the runner's bundling or ordering.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.io import files

# With output.num_shards: auto, one shard per this much input: a shard's rows are
# grouped and sorted on one worker, so this bounds that worker's memory (the
# rows of 32 MiB of notes, a few times that in Python objects).
AUTO_SHARD_BYTES = 32 * 2**20
MAX_SHARDS = 4096


def auto_shard_count(input_bytes: int | None, *, fallback: int) -> int:
    """Shards for ``input_bytes`` of input; ``fallback`` where the size is unknown
    (a database query: its partition count). The same input gives the same count,
    so outputs stay byte-identical."""
    if input_bytes is None:
        return max(1, min(fallback, MAX_SHARDS))
    return max(1, min(-(-input_bytes // AUTO_SHARD_BYTES), MAX_SHARDS))


def shard_index(key: str, num_shards: int) -> int:
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % num_shards


def shard_path(directory: str, shard: int, num_shards: int, suffix: str = "parquet") -> str:
    return files.join(directory, f"part-{shard:05d}-of-{num_shards:05d}.{suffix}")


def write_parquet_file(
    path: str,
    rows: list[dict[str, Any]] | list[tuple[Any, ...]],
    schema: pa.Schema,
    *,
    compression_level: int,
) -> int:
    """Rows are dicts, or tuples in the schema's field order (lighter to move in Beam)."""
    if rows and isinstance(rows[0], tuple):
        columns = list(zip(*rows, strict=True))
        arrays = [pa.array(column, type=f.type) for column, f in zip(columns, schema, strict=True)]
        table = pa.Table.from_arrays(arrays, schema=schema)
    else:
        table = pa.Table.from_pylist(rows, schema=schema)
    # Under a temporary name, renamed once whole: a retried bundle rewrites the same
    # bytes, and no reader (or published run) sees half a shard.
    files.write_file(
        path,
        lambda handle: pq.write_table(
            table,
            handle,
            compression="zstd",
            compression_level=compression_level,
            write_statistics=True,
        ),
    )
    return table.num_rows


def fill_empty_shards(
    directory: str, schema: pa.Schema, num_shards: int, *, compression_level: int
) -> None:
    """Write an empty file for each shard that received no rows, so readers see all shards."""
    for shard in range(num_shards):
        path = shard_path(directory, shard, num_shards)
        if not files.exists(path):
            write_parquet_file(path, [], schema, compression_level=compression_level)


def _write_shard(
    keyed: tuple[int, Iterable[dict[str, Any]]],
    directory: str,
    schema: pa.Schema,
    sort_key: Callable[[dict[str, Any]], Any],
    num_shards: int,
    compression_level: int,
    batched: bool = False,
) -> tuple[str, int]:
    shard, rows = keyed
    if batched:
        rows = (row for batch in rows for row in batch)
    ordered = sorted(rows, key=sort_key)
    path = shard_path(directory, shard, num_shards)
    return path, write_parquet_file(path, ordered, schema, compression_level=compression_level)


class WriteParquetShards(beam.PTransform):
    """Write dict rows to ``directory/part-NNNNN-of-MMMMM.parquet``, deterministically.

    With ``batched``, each element is a non-empty list of rows that share one
    shard key (a member's rows, say): far fewer elements to move than rows.
    """

    def __init__(
        self,
        *,
        directory: str,
        schema: pa.Schema,
        shard_key: Callable[[dict[str, Any]], str],
        sort_key: Callable[[dict[str, Any]], Any],
        num_shards: int,
        compression_level: int = 3,
        batched: bool = False,
    ) -> None:
        super().__init__()
        self.batched = batched
        self.directory = directory
        self.schema = schema
        self.shard_key = shard_key
        self.sort_key = sort_key
        self.num_shards = num_shards
        self.compression_level = compression_level

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        shard_key, num_shards, batched = self.shard_key, self.num_shards, self.batched

        def assign(element: Any) -> tuple[int, Any]:
            first = element[0] if batched else element
            return shard_index(shard_key(first), num_shards), element

        return (
            rows
            | "AssignShard" >> beam.Map(assign)
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard"
            >> beam.Map(
                _write_shard,
                directory=self.directory,
                schema=self.schema,
                sort_key=self.sort_key,
                num_shards=num_shards,
                compression_level=self.compression_level,
                batched=batched,
            )
        )


def _write_protected_jsonl(
    keyed: tuple[int, Iterable[dict[str, Any]]], directory: str, num_shards: int
) -> str:
    shard, rows = keyed
    ordered = sorted(rows, key=lambda r: (r["source_file"], r["record_number"]))
    # Local by design (the job refuses a remote quarantine_text_dir): the rows hold note text.
    os.makedirs(directory, mode=0o700, exist_ok=True)
    path = os.path.join(directory, f"part-{shard:05d}-of-{num_shards:05d}.jsonl")
    # Created 0600 from the start: the file holds note text.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        for row in ordered:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n")
    return path


class WriteProtectedJsonl(beam.PTransform):
    """Write rows that hold note text to owner-only JSONL files in a protected directory."""

    def __init__(self, *, directory: str, num_shards: int) -> None:
        super().__init__()
        self.directory = directory
        self.num_shards = num_shards

    def expand(self, rows: beam.PCollection) -> beam.PCollection:
        num_shards = self.num_shards
        return (
            rows
            | "AssignShard"
            >> beam.Map(
                lambda row: (
                    shard_index(f"{row['source_file']}#{row['record_number']}", num_shards),
                    row,
                )
            )
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard"
            >> beam.Map(_write_protected_jsonl, directory=self.directory, num_shards=num_shards)
        )
