"""Splitting one large export file so that several workers read it at once.

A split is a byte range of a CSV or JSON Lines file (or a run of Parquet row
groups) that starts and ends on a record boundary, with the number of records
and physical lines before it. Its records therefore carry the same numbers a
single sequential read gives them, whatever the split size and whichever
worker reads them: record numbers stay stable, and outputs stay byte-identical.

Finding boundaries takes one pass over the file (``plan_line_splits``), which
runs the real parser (the ``csv`` module for CSV), because a CSV record may
span lines inside quotes and an unbalanced quote in an unquoted field ends no
record where a quote count would say it does. That pass reads bytes and parses
fields; the work the splits save (validation, PHI models, redaction) is many
times that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import pyarrow.parquet as pq

from transforms.io import files

DEFAULT_SPLIT_BYTES = 64 * 2**20
_BOM = b"\xef\xbb\xbf"
# A carriage return not followed by a newline ends a line for the csv module
# (``open(..., newline="")`` semantics), so it ends one here too.
_LONE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class ReadSplit:
    """A part of one file: bytes ``[start, stop)`` of a line format, or row groups
    ``[start, stop)`` of a Parquet file; ``stop`` None reads to the end."""

    path: str
    start: int = 0
    stop: int | None = None
    records_before: int = 0
    lines_before: int = 0
    # CSV: the file's header, for a split that does not start at the top.
    header: tuple[str, ...] | None = None


def whole_file(path: str) -> ReadSplit:
    return ReadSplit(path)


class LineCursor:
    """The physical lines of a split, with the byte offset and line count after
    the last line handed out, so a caller can tell where a record ended.

    ``universal`` splits lines as ``open(newline="")`` does (``\\n``, ``\\r\\n``,
    lone ``\\r``), which is what the csv module expects; otherwise on ``\\n``
    only, as iterating a binary file does."""

    def __init__(self, handle: IO[bytes], split: ReadSplit, *, universal: bool) -> None:
        self._handle, self._split, self._universal = handle, split, universal
        self.offset = split.start
        self.lines = split.lines_before
        if split.start:
            handle.seek(split.start)

    def raw_lines(self) -> Iterator[bytes]:
        stop = self._split.stop
        for chunk in self._handle:
            if self.offset == 0 and chunk.startswith(_BOM):
                self.offset += len(_BOM)
                chunk = chunk[len(_BOM) :]
            for line in self._universal_lines(chunk) if self._universal else (chunk,):
                # Counted before it is handed out: a reader that stops after this
                # line finds the offset at the line's end.
                self.offset += len(line)
                self.lines += 1
                yield line
                if stop is not None and self.offset >= stop:
                    return

    def text_lines(self) -> Iterator[str]:
        # UTF-8 never puts a newline byte inside a character, so decoding line by
        # line gives what a streaming decoder gives; bad bytes become surrogates.
        for line in self.raw_lines():
            yield line.decode("utf-8", "surrogateescape")

    @staticmethod
    def _universal_lines(chunk: bytes) -> Iterable[bytes]:
        if b"\r" not in chunk[:-2]:
            return (chunk,)
        ends = [match.end() for match in _LONE_CR.finditer(chunk)]
        if not ends:
            return (chunk,)
        starts = [0, *ends]
        return [chunk[a:b] for a, b in zip(starts, [*ends, len(chunk)], strict=True) if a < b]


def cut_at_boundaries(
    path: str,
    cursor: LineCursor,
    records: Iterator[int],
    split_bytes: int,
    *,
    header: tuple[str, ...] | None = None,
) -> list[ReadSplit]:
    """Splits of about ``split_bytes`` each. ``records`` yields once per record
    boundary the parser reached (1 for a record, 0 for a line that is none), with
    ``cursor`` standing at that boundary."""
    splits: list[ReadSplit] = []
    start, lines_before, records_before, number = cursor.offset, cursor.lines, 0, 0
    for counted in records:
        number += counted
        if cursor.offset - start >= split_bytes:
            splits.append(
                ReadSplit(path, start, cursor.offset, records_before, lines_before, header)
            )
            start, lines_before, records_before = cursor.offset, cursor.lines, number
    splits.append(ReadSplit(path, start, None, records_before, lines_before, header))
    return splits


def plan_jsonl_splits(path: str, split_bytes: int) -> list[ReadSplit]:
    """Splits of a JSON Lines file, where every line ends a record (blank ones count none)."""
    with files.open_read(path) as handle:
        cursor = LineCursor(handle, whole_file(path), universal=False)
        return cut_at_boundaries(
            path, cursor, (1 if raw.strip() else 0 for raw in cursor.raw_lines()), split_bytes
        )


def plan_parquet_splits(path: str, split_bytes: int) -> list[ReadSplit]:
    """Runs of whole row groups, each about ``split_bytes`` of column data."""
    with files.open_read(path) as handle:
        metadata = pq.ParquetFile(handle).metadata
    splits: list[ReadSplit] = []
    start, records_before, size, rows = 0, 0, 0, 0
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        size += row_group.total_byte_size
        rows += row_group.num_rows
        if size >= split_bytes and group + 1 < metadata.num_row_groups:
            splits.append(ReadSplit(path, start, group + 1, records_before))
            start, records_before, size = group + 1, rows, 0
    splits.append(ReadSplit(path, start, None, records_before))
    return splits
