"""A scheduler's SIGTERM stops a run the way a failure does: staging removed, no
_SUCCESS, the audit row (in the default database, beside the output) marked
failed with reason "terminated", exit 143."""

import signal
import time

import pytest

from tests.pipeline.helpers import audit_runs, start_long_run


# Two moments: early in the pipeline, and later, where Beam may catch the
# signal's exception inside a bundle and carry on (the run must still not publish).
@pytest.mark.parametrize("delay", [1.0, 5.0])
def test_sigterm_cleans_up_and_marks_the_run_terminated(tmp_path, delay):
    process = start_long_run(tmp_path)
    output = tmp_path / "out"
    time.sleep(delay)  # into the pipeline itself
    assert process.poll() is None, "the run ended before it could be stopped"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr
    assert not list(tmp_path.glob(".out.staging-*")), "staging left behind"
    assert not (output / "_SUCCESS").exists()
    # The embedded default audit database lies beside the output, so it survives.
    assert [row[1:] for row in audit_runs(tmp_path / "out.audit.sqlite")] == [
        ("failed", "terminated")
    ]
    assert "Roe" not in stderr


def test_ctrl_c_prints_one_line_and_no_traceback(tmp_path):
    process = start_long_run(tmp_path)
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert "stopped by SIGINT" in stderr
    assert "Traceback" not in stderr
    assert "Resource module is not available" not in stderr  # Beam's harmless warning
    assert len(stderr.strip().splitlines()) <= 3, stderr  # the start line, the stop line
    assert [row[1:] for row in audit_runs(tmp_path / "out.audit.sqlite")] == [
        ("failed", "terminated")
    ]
