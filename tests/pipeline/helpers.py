"""Helpers for running the CLI in tests and reading what it wrote."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import sqlalchemy as sa

from pipeline.cli import main
from tests.conftest import REPO_ROOT


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


LONG_RUN_KEY = "0123456789abcdef0123456789abcdef-long-run"


def patterns_run_command(
    tmp_path: Path, notes: list[dict[str, Any]], *extra: str
) -> tuple[list[str], dict[str, str]]:
    """The command and environment of `deidcode run`, in its own process, over ``notes``
    with the pattern detector only, writing to tmp_path/out."""
    export = write_jsonl(tmp_path / "notes.jsonl", notes)
    config = tmp_path / "patterns.yaml"
    config.write_text("detection:\n  detectors:\n    - name: presidio_patterns\n")
    command = [
        sys.executable, "-m", "pipeline.cli", "run", "--input", str(export), "--format",
        "jsonl", "--output", str(tmp_path / "out"), "--config", str(config), *extra,
    ]  # fmt: skip
    return command, {**os.environ, "DEIDCODE_KEY": LONG_RUN_KEY}


def start_long_run(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    """`deidcode run` in its own process over 5,000 notes with patterns only (it starts
    fast and lasts a while), writing to tmp_path/out; returns once staging exists."""
    notes = [
        {"note_id": f"n{i}", "patient_id": f"p{i % 7}", "text": "Seen by Dr. Roe on 3/14. " * 40}
        for i in range(5000)
    ]
    command, env = patterns_run_command(tmp_path, notes, *extra)
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.staging-*")):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the run never created its staging directory"
        time.sleep(0.1)
    return process


def query(url: str, statement: str) -> list[tuple[Any, ...]]:
    """The rows of one SQL statement on a database, as tuples."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(statement)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def audit_runs(audit_db: Path) -> list[tuple[Any, ...]]:
    """(run_id, status, error) of every run in a SQLite audit database, by start time."""
    return query(
        f"sqlite:///{audit_db}", "SELECT run_id, status, error FROM deid_runs ORDER BY started_at"
    )


def free_port() -> int:
    """A TCP port nothing listens on, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
