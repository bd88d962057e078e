"""Helpers for running the CLI in tests and reading what it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.cli import main


def run_cli(*args: str) -> int:
    return main(["run", *args])


def run_export(
    path: Path | str, out: Path, *extra: str, fmt: str = "jsonl", config: Path | None = None
) -> int:
    """`deidcode run` on one export file or glob, optionally with a config, as a user types it."""
    args = ["--input", str(path), "--format", fmt, "--output", str(out)]
    if config is not None:
        args += ["--config", str(config)]
    return run_cli(*args, *extra)


def table(out: Path, name: str) -> list[dict[str, Any]]:
    return pq.read_table(out / name).to_pylist()


def manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def write_jsonl(path: Path, records: list[Any]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path
