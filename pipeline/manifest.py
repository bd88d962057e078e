"""The run manifest: what ran, on what, with which versions, and counts that add up."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from transforms.core.hashing import sha256_stream
from transforms.io import files

LIBRARIES = ("deidcode", "apache-beam", "pyarrow", "presidio-analyzer", "onnxruntime", "sqlalchemy")


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def table_files(directory: str) -> list[str]:
    """A table's Parquet files, local or in a bucket, sorted."""
    return [
        path
        for path in files.list_files(directory, ".parquet")
        if files.dirname(path).rstrip("/") == directory.rstrip("/")
    ]


def _rows_in(path: str) -> int:
    with files.open_read(path) as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def count_rows(directory: str) -> int:
    """Rows in the written files: the run's counts never rest on runner metrics."""
    return sum(_rows_in(path) for path in table_files(directory))


def finished_run_manifest(
    run_dir: str, error: type[Exception], *, unfinished: str = "the run did not finish"
) -> dict[str, Any]:
    """A finished run's manifest, local or in a bucket; ``error`` naming the run when
    it has no ``_SUCCESS`` or its manifest cannot be read."""
    if not files.exists(files.join(run_dir, "_SUCCESS")):
        raise error(f"run {run_dir} has no _SUCCESS: {unfinished}")
    try:
        return json.loads(files.read_bytes(files.join(run_dir, "manifest.json")))
    except (OSError, json.JSONDecodeError) as exc:
        raise error(f"run {run_dir}: manifest.json cannot be read ({exc})") from None


def read_parquet_file(path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file of a run, local or in a bucket."""
    with files.open_read(path) as handle:
        return pq.read_table(handle, columns=columns)


def count_by(directory: str, column: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in table_files(directory):
        values = read_parquet_file(path, [column]).column(column).to_pylist()
        for value in values:
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def read_table(directory: str, columns: list[str] | None = None) -> pa.Table | None:
    """A table of a run, local or in a bucket, as one Arrow table; None if it has no files."""
    parts = [read_parquet_file(path, columns) for path in table_files(directory)]
    return pa.concat_tables(parts) if parts else None


def read_counts(directory: str) -> dict[str, int]:
    """Records read per input file, from the read step's own table (``ReadAndParse``)."""
    counts: dict[str, int] = {}
    for path in table_files(directory):
        for row in read_parquet_file(path).to_pylist():
            counts[row["source_file"]] = counts.get(row["source_file"], 0) + row["records"]
    return counts


def describe_outputs(root: str, tables: tuple[str, ...]) -> dict[str, Any]:
    """Each table's files with rows and sha256, as paths relative to the run."""
    prefix = root.rstrip("/") + "/"
    described = {}
    for table in tables:
        entries = []
        for path in table_files(files.join(root, table)):
            with files.open_read(path) as handle:
                digest = sha256_stream(handle)
            entries.append({"path": path[len(prefix) :], "rows": _rows_in(path), "sha256": digest})
        described[table] = entries
    return described


def write_manifest(path: str, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    files.write_bytes(path, text.encode("utf-8"))
