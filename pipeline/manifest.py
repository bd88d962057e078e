"""The run manifest: what ran, on what, with which versions, and counts that add up."""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from transforms.core.hashing import sha256_file

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
    if not os.path.isdir(directory):
        return []
    return sorted(
        os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".parquet")
    )


def count_rows(directory: str) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in table_files(directory))


def count_by(directory: str, column: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in table_files(directory):
        for value in pq.read_table(path, columns=[column]).column(column).to_pylist():
            counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def describe_outputs(root: str, tables: tuple[str, ...]) -> dict[str, Any]:
    described = {}
    for table in tables:
        files = []
        for path in table_files(os.path.join(root, table)):
            files.append(
                {
                    "path": os.path.relpath(path, root),
                    "rows": pq.ParquetFile(path).metadata.num_rows,
                    "sha256": sha256_file(Path(path)),
                }
            )
        described[table] = files
    return described


def write_manifest(path: str, manifest: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
