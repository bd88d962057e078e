"""Read exports into ``RawRecord``s, one file (or query slice) at a time: CSV,
JSONL and Parquet with a column map, and the EHR formats that map their own
fields (FHIR Bulk Data NDJSON, HL7 v2 messages, OMOP NOTE tables).

Readers never raise on a bad record: each record comes out either with its
fields or with a reason code, so every record ends in the output or in
quarantine. Problems that make a whole file unusable (missing, unreadable
header, missing required column) are found by ``check_inputs`` before the
pipeline starts.
"""

from __future__ import annotations

import csv
import fnmatch
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.core.hashing import sha256_stream
from transforms.core.records import RawRecord
from transforms.io import fhir, fhir_hcc, files, omop
from transforms.io.formats import FORMAT_EXTENSIONS, FORMATS, SELF_MAPPED_FORMATS
from transforms.io.hl7v2 import read_hl7v2
from transforms.io.jsonl import read_jsonl
from transforms.io.splits import (
    DEFAULT_SPLIT_BYTES,
    LineCursor,
    ReadSplit,
    cut_at_boundaries,
    plan_jsonl_splits,
    plan_parquet_splits,
    whole_file,
)

__all__ = [
    "FORMATS",
    "SELF_MAPPED_FORMATS",
    "InputError",
    "ReadOptions",
    "ReadSplit",
    "plan_splits",
    "read_jsonl",
    "read_records",
]

# CSV fields may be as large as a note; the csv module's default limit is 128 KiB.
csv.field_size_limit(2**31 - 1)


class InputError(ValueError):
    """An input file cannot be used at all; the message names the file."""


@dataclass(frozen=True)
class InputFile:
    path: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class ReadOptions:
    """What a reader needs beyond the file's path."""

    delimiter: str = ","
    # FHIR: the resource type read as records, the export's Binary files (where
    # attachments point by url) and its Encounter files (a Condition's source kind).
    fhir_resource: str = "DocumentReference"
    binary_files: tuple[str, ...] = ()
    encounter_files: tuple[str, ...] = ()
    # OMOP from a database: the query whose slices are the run's "files".
    query: omop.QuerySource | None = None
    # A CSV, JSONL or Parquet file larger than this is read as several splits.
    split_bytes: int = DEFAULT_SPLIT_BYTES


DEFAULT_READ_OPTIONS = ReadOptions()


@dataclass(frozen=True)
class InputSelection:
    """The files a run reads, and the files of a directory input it left out, with why."""

    files: list[str]
    skipped: list[dict[str, str]]
    # FHIR: the export's Binary and Encounter files (looked up, never read as records).
    binary_files: list[str] = field(default_factory=list)
    encounter_files: list[str] = field(default_factory=list)


def select_inputs(
    pattern: str,
    fmt: str | None = None,
    *,
    input_glob: str | None = None,
    fhir_resource: str = "DocumentReference",
) -> InputSelection:
    """Files named by a path, a directory or a glob, sorted for determinism.

    A directory yields only its files of ``fmt`` (by extension), or those whose name
    matches ``input_glob``; hidden files and anything else are skipped, so a README
    beside the exports does not fail the run. A glob or a file path is taken as the
    user wrote it. A FHIR export is read by resource type instead (``fhir_inputs``)."""
    if fmt == "fhir-ndjson":
        return fhir_inputs(pattern, input_glob=input_glob, resource_type=fhir_resource)
    is_directory = not files.has_magic(pattern) and files.is_dir(pattern)
    if input_glob is not None and not is_directory:
        raise InputError(f"--input-glob applies to a directory input; {pattern} is not one")
    skipped: list[dict[str, str]] = []
    if is_directory:
        paths = []
        for name, path, is_file in files.directory_entries(pattern):
            reason = _skip_reason(name, is_file, fmt, input_glob)
            if reason is None:
                paths.append(path)
            else:
                skipped.append({"path": path, "reason": reason})
    else:
        paths = _plain_selection(pattern)
    selected = sorted(paths)
    if not selected:
        what = f"{fmt} file" if fmt else "file"
        detail = f" ({len(skipped)} other file(s) skipped; see --input-glob)" if skipped else ""
        raise InputError(f"input {pattern} matches no {what}{detail}")
    return InputSelection(selected, skipped)


def fhir_inputs(
    pattern: str, *, input_glob: str | None = None, resource_type: str = "DocumentReference"
) -> InputSelection:
    """A FHIR export's files of ``resource_type``, with the Binary and Encounter files
    they refer to; files of every other resource type are listed as skipped."""
    directory = not files.has_magic(pattern) and files.is_dir(pattern)
    if directory or files.basename(pattern) == "manifest.json":
        paths = [pattern]
    else:
        paths = _plain_selection(pattern)
    try:
        export = fhir.scan_export(paths)
    except fhir.FhirExportError as exc:
        raise InputError(str(exc)) from None
    wanted = export.files(resource_type)
    if input_glob is not None and directory:
        keep = {p for p in wanted if fnmatch.fnmatch(files.basename(p), input_glob)}
    else:
        keep = set(wanted)
    looked_up = ("Binary", "Encounter")
    skipped = [
        {"path": path, "reason": f"resource_type:{other}"}
        for other, typed in export.files_by_type.items()
        for path in typed
        if other != resource_type and other not in looked_up
    ] + [{"path": path, "reason": "input_glob"} for path in wanted if path not in keep]
    if not keep:
        raise InputError(f"input {pattern} holds no {resource_type} resources")
    return InputSelection(
        sorted(keep),
        skipped,
        binary_files=export.files("Binary"),
        encounter_files=export.files("Encounter"),
    )


def _plain_selection(pattern: str) -> list[str]:
    """The files a glob matches, or the one file a path names."""
    if files.has_magic(pattern):
        return files.glob_files(pattern)
    if not files.exists(pattern):
        raise InputError(f"input file {pattern} does not exist")
    return [files.absolute(pattern)]


def _skip_reason(name: str, is_file: bool, fmt: str | None, input_glob: str | None) -> str | None:
    if not is_file:
        return "not_a_file"
    if name.startswith("."):
        return "hidden"
    if input_glob is not None:
        return None if fnmatch.fnmatch(name, input_glob) else "input_glob"
    if fmt is not None and not name.lower().endswith(FORMAT_EXTENSIONS[fmt]):
        return "extension"
    return None


def file_digest(path: str) -> InputFile:
    with files.open_read(path) as handle:
        digest = sha256_stream(handle)
    return InputFile(path=path, size_bytes=files.size(path), sha256=digest)


def input_columns(path: str, fmt: str, *, delimiter: str = ",") -> list[str] | None:
    """The column names a CSV header or Parquet schema declares; None for formats
    without a header (JSONL, FHIR, HL7 v2)."""
    if fmt in ("jsonl", "fhir-ndjson", "hl7v2"):
        return None
    if fmt == "omop-note":
        fmt = _omop_table_format(path)
    if fmt == "parquet":
        try:
            with files.open_read(path) as handle:
                return list(pq.read_schema(handle).names)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"input file {path} is not a readable Parquet file ({exc})") from None
    with files.open_read(path) as handle:
        first = handle.readline()
    try:
        header_line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"input file {path}: the CSV header is not valid UTF-8") from None
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    if not any(h.strip() for h in header):
        raise InputError(f"input file {path}: the CSV file has no header row")
    return [h.strip() for h in header]


def check_inputs(
    paths: Sequence[str],
    fmt: str,
    required: Sequence[str],
    *,
    delimiter: str = ",",
    hint: str = "map them under input.columns in the config",
    also: Sequence[tuple[Sequence[str], str]] = (),
) -> None:
    """Stop before the run if a file lacks a required column. ``also`` holds further
    (columns, hint) groups, checked against the same header read."""
    if fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "omop-note":
        # An OMOP table names its columns itself: input.columns does not apply.
        required = omop.REQUIRED_COLUMNS
        hint = "an OMOP CDM v5.4 NOTE table has them"
    for path in paths:
        columns = input_columns(path, fmt, delimiter=delimiter)
        if columns is None:
            continue
        for wanted, why in ((required, hint), *also):
            missing = [c for c in wanted if c not in columns]
            if missing:
                raise InputError(
                    f"input file {path} lacks required column(s) {', '.join(missing)}; {why}"
                )


SPLITTABLE_FORMATS = ("csv", "jsonl", "parquet")


def plan_splits(path: str, fmt: str, options: ReadOptions | None = None) -> list[ReadSplit]:
    """The parts of one input that workers may read apart: several for a CSV,
    JSONL or Parquet file (an OMOP NOTE file among them) larger than
    ``options.split_bytes``, otherwise the whole file. FHIR, HL7 v2 and query
    slices are read whole: exports and queries come in many of those already."""
    options = options or DEFAULT_READ_OPTIONS
    if options.query is not None:
        return [whole_file(path)]
    if fmt == "omop-note":
        fmt = _omop_table_format(path)
    if fmt not in SPLITTABLE_FORMATS or files.size(path) <= options.split_bytes:
        return [whole_file(path)]
    if fmt == "csv":
        return plan_csv_splits(path, delimiter=options.delimiter, split_bytes=options.split_bytes)
    if fmt == "jsonl":
        return plan_jsonl_splits(path, options.split_bytes)
    return plan_parquet_splits(path, options.split_bytes)


def read_records(
    path: str,
    fmt: str,
    options: ReadOptions | None = None,
    *,
    split: ReadSplit | None = None,
) -> Iterator[RawRecord]:
    """The records of one input file (or of one ``split`` of it, from
    ``plan_splits``), or of one query slice named like a file."""
    options = options or DEFAULT_READ_OPTIONS
    if fmt == "csv":
        yield from read_csv(path, delimiter=options.delimiter, split=split)
    elif fmt == "jsonl":
        yield from read_jsonl(path, split)
    elif fmt == "parquet":
        yield from read_parquet(path, split)
    elif fmt == "fhir-ndjson" and options.fhir_resource == "Patient":
        yield from fhir_hcc.read_patients(path)
    elif fmt == "fhir-ndjson" and options.fhir_resource == "Condition":
        yield from fhir_hcc.read_conditions(path, encounter_files=options.encounter_files)
    elif fmt == "fhir-ndjson":
        yield from fhir.read_document_references(path, binary_files=options.binary_files)
    elif fmt == "hl7v2":
        yield from read_hl7v2(path)
    elif fmt == "omop-note" and options.query is not None:
        yield from options.query.read(path)
    elif fmt == "omop-note":
        for record in read_records(path, _omop_table_format(path), options, split=split):
            yield omop.mapped_record(record)
    else:
        raise InputError(f"unknown input format {fmt!r}")


def _omop_table_format(path: str) -> str:
    return "parquet" if path.lower().endswith((".parquet", ".pq")) else "csv"


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _has_surrogates(value: str) -> bool:
    # Bytes that are not UTF-8 decode to lone surrogates under "surrogateescape".
    return _ESCAPED_BYTE.search(value) is not None


def read_csv(
    path: str, *, delimiter: str = ",", split: ReadSplit | None = None
) -> Iterator[RawRecord]:
    split = split or whole_file(path)
    with files.open_read(path) as handle:
        cursor = LineCursor(handle, split, universal=True)
        reader = csv.reader(cursor.text_lines(), delimiter=delimiter, strict=True)
        # A split after the first starts below the header, so it is handed the header.
        top = split.header is None
        header = [h.strip() for h in next(reader)] if top else list(split.header or ())
        number = split.records_before
        for row in _csv_rows(reader):
            number += 1
            line = reader.line_num + split.lines_before
            if isinstance(row, csv.Error):
                reason = f"CSV parse error near line {line}: {str(row).split(':')[0]}"
                yield RawRecord(path, number, None, "malformed_csv_row", reason)
                continue
            if len(row) != len(header):
                yield RawRecord(
                    path,
                    number,
                    None,
                    "malformed_csv_row",
                    f"line {line}: expected {len(header)} fields, found {len(row)}",
                )
                continue
            # One search over the whole row; name the columns only when it finds something.
            bad = _has_surrogates("".join(row)) and [
                name for name, value in zip(header, row, strict=True) if _has_surrogates(value)
            ]
            if bad:
                yield RawRecord(
                    path, number, None, "invalid_utf8", f"invalid UTF-8 in column(s) {bad}"
                )
                continue
            yield RawRecord(path, number, dict(zip(header, row, strict=True)))


def _csv_rows(reader: Iterator[list[str]]) -> Iterator[list[str] | csv.Error]:
    """Each record the csv module reads, or the error it raised for one; a blank
    line is no record. After each, the reader stands at the record's end."""
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield exc
            continue
        if row:
            yield row


def plan_csv_splits(path: str, *, delimiter: str, split_bytes: int) -> list[ReadSplit]:
    """Splits of a CSV file at record ends, found by the csv module itself."""
    with files.open_read(path) as handle:
        cursor = LineCursor(handle, whole_file(path), universal=True)
        reader = csv.reader(cursor.text_lines(), delimiter=delimiter, strict=True)
        header = tuple(h.strip() for h in next(reader, []))
        return cut_at_boundaries(
            path, cursor, (1 for _ in _csv_rows(reader)), split_bytes, header=header
        )


def read_parquet(path: str, split: ReadSplit | None = None) -> Iterator[RawRecord]:
    split = split or whole_file(path)
    with files.open_read(path) as handle:
        yield from _read_parquet_stream(path, pq.ParquetFile(handle), split)


def _read_parquet_stream(
    path: str, parquet: pq.ParquetFile, split: ReadSplit
) -> Iterator[RawRecord]:
    number = split.records_before
    stop = parquet.num_row_groups if split.stop is None else split.stop
    for group in range(split.start, stop):
        rows_in_group = parquet.metadata.row_group(group).num_rows
        try:
            rows = parquet.read_row_group(group).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            # The rows cannot be told apart, so each is quarantined by number.
            for _ in range(rows_in_group):
                number += 1
                yield RawRecord(
                    path,
                    number,
                    None,
                    "unreadable_record",
                    f"row group {group}: {type(exc).__name__}",
                )
            continue
        for row in rows:
            number += 1
            yield RawRecord(path, number, row)
