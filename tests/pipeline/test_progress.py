"""Progress while a run goes (a log line without a terminal, a live line on one) and the
summary table at its end."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

from pipeline.progress import COUNTERS, live_counts_available
from tests.conftest import REPO_ROOT, SAMPLE_CSV, TEST_KEY
from tests.pipeline.helpers import run_cli
from tests.terminal import run_on_terminal

PROGRESS_LINE = re.compile(
    r"run \S+: read \d+, released \d+, quarantined \d+, [\d.,]+ notes/s after \d+ s"
)


def test_without_a_terminal_a_log_line_comes_every_interval_and_counts_add_up(
    tmp_path, run_key, caplog, capsys
):
    caplog.set_level(logging.INFO, logger="deidcode")
    args = ["--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(tmp_path / "o")]
    assert run_cli(*args, "--progress-interval", "0.2") == 0

    assert any(PROGRESS_LINE.search(record.getMessage()) for record in caplog.records)
    # Every record ticked once where it ended: the live counts are the manifest's.
    assert COUNTERS.snapshot() == {"read": 50, "released": 47, "quarantined": 3}

    out = capsys.readouterr().out
    assert "records quarantined" in out and "duplicate_note_id" in out
    assert re.search(r"time: pipeline\s+│\s+[\d.]+ s", out)
    assert str(tmp_path / "o") in out


def test_no_progress_means_no_progress_lines(tmp_path, run_key, caplog):
    caplog.set_level(logging.INFO, logger="deidcode")
    args = ["--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(tmp_path / "o")]
    assert run_cli(*args, "--no-progress", "--progress-interval", "0.1") == 0
    assert not any(PROGRESS_LINE.search(record.getMessage()) for record in caplog.records)


def test_on_a_terminal_a_live_line_is_drawn(tmp_path):
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(SAMPLE_CSV),
               "--format", "csv", "--output", str(tmp_path / "o")]  # fmt: skip
    env = {**os.environ, "DEIDCODE_KEY": TEST_KEY, "COLUMNS": "120"}
    code, text, _ = run_on_terminal(command, cwd=REPO_ROOT, env=env, timeout=120)
    assert code == 0
    assert re.search(r"run \S+.*read \d+, released \d+, quarantined \d+", text)
    assert "\x1b[" in text  # redrawn in place, not printed line after line


def test_live_counts_only_where_workers_share_this_process():
    assert live_counts_available([])
    assert live_counts_available(["--runner=FnApiRunner", "--direct_num_workers=2"])
    assert not live_counts_available(["--direct_running_mode=multi_processing"])
    assert not live_counts_available(["--runner=DataflowRunner", "--project=p"])


def test_worker_processes_stay_quiet_and_progress_says_counts_come_at_the_end(tmp_path):
    config = tmp_path / "patterns.yaml"
    config.write_text("detection:\n  detectors:\n    - name: presidio_patterns\n")
    process = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--input", str(SAMPLE_CSV), "--format",
         "csv", "--output", str(tmp_path / "o"), "--config", str(config),
         "--progress-interval", "1", "--direct_num_workers=2",
         "--direct_running_mode=multi_processing"],
        cwd=REPO_ROOT,
        env={**os.environ, "DEIDCODE_KEY": TEST_KEY},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    lines = process.stderr.splitlines()
    assert not [line for line in lines if "INFO:apache_beam" in line], process.stderr
    assert "counts come at the end with this runner" in process.stderr
    # Each worker's few start-up lines remain (they come before its options are read).
    assert len([line for line in lines if "counts come at the end" not in line]) <= 12, lines
