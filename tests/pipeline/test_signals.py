"""A scheduler's SIGTERM stops a run the way a failure does: staging removed, no
_SUCCESS, the audit row (in the default database, beside the output) marked
failed with reason "terminated", exit 143."""

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from tests.conftest import REPO_ROOT
from tests.pipeline.helpers import write_jsonl


# Two moments: early in the pipeline, and later, where Beam may catch the
# signal's exception inside a bundle and carry on (the run must still not publish).
@pytest.mark.parametrize("delay", [1.0, 5.0])
def test_sigterm_cleans_up_and_marks_the_run_terminated(tmp_path, delay):
    notes = [
        {"note_id": f"n{i}", "patient_id": f"p{i % 7}", "text": "Seen by Dr. Roe on 3/14. " * 40}
        for i in range(5000)
    ]
    export = write_jsonl(tmp_path / "notes.jsonl", notes)
    config = tmp_path / "patterns.yaml"  # no model: the run starts fast and lasts a while
    config.write_text("detection:\n  detectors:\n    - name: presidio_patterns\n")
    output = tmp_path / "out"
    audit = tmp_path / "out.audit.sqlite"  # the embedded default: beside the output
    command = [
        sys.executable, "-m", "pipeline.cli", "run", "--input", str(export), "--format",
        "jsonl", "--output", str(output), "--config", str(config),
    ]  # fmt: skip
    env = {**os.environ, "DEIDCODE_KEY": "0123456789abcdef0123456789abcdef-sigterm"}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".out.staging-*")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the run never created its staging directory"
        time.sleep(0.1)
    time.sleep(delay)  # into the pipeline itself
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr
    assert not list(tmp_path.glob(".out.staging-*")), "staging left behind"
    assert not (output / "_SUCCESS").exists()
    engine = sa.create_engine(f"sqlite:///{audit}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, error FROM deid_runs")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("failed", "terminated")]
    assert "Roe" not in stderr
