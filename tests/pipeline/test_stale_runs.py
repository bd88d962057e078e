"""A killed run's debris (SIGKILL: nothing could clean up) is found by the next run of
the same output: reported, its audit row marked abandoned, its staging directory
removed only with --clean-stale."""

from __future__ import annotations

import datetime as dt
import signal
import time

from pipeline.stale_runs import find_stale_staging, staging_started_at
from tests.pipeline.helpers import (
    LONG_RUN_KEY,
    audit_runs,
    manifest,
    start_long_run,
    write_jsonl,
)

NOW = dt.datetime(2026, 12, 1, 2, 30, tzinfo=dt.UTC)


def _staging(parent, started: dt.datetime, base: str = "out", suffix: str = "") -> str:
    path = parent / f".{base}.staging-{started:%Y%m%dT%H%M%SZ}-0123abcd{suffix}"
    path.mkdir()
    return str(path)


def test_only_staging_directories_older_than_the_lease_are_stale(tmp_path):
    old = _staging(tmp_path, NOW - dt.timedelta(hours=30))
    swapped_out = _staging(tmp_path, NOW - dt.timedelta(hours=30), suffix=".replaced")
    _staging(tmp_path, NOW - dt.timedelta(hours=2))  # may be a run still going
    _staging(tmp_path, NOW - dt.timedelta(hours=30), base="other")  # another output's
    (tmp_path / ".out.staging-notes").mkdir()  # not a name staged_run writes

    stale = find_stale_staging(str(tmp_path / "out"), lease=dt.timedelta(hours=24), now=NOW)

    assert stale == sorted([old, swapped_out])
    assert staging_started_at(".out.staging-20261201T023000Z-0123abcd") == NOW
    assert staging_started_at(".out.staging-notes") is None


def test_a_killed_run_is_reported_abandoned_and_cleaned_only_on_request(tmp_path, monkeypatch):
    killed = start_long_run(tmp_path)
    audit_db = tmp_path / "out.audit.sqlite"
    deadline = time.monotonic() + 60
    while not _has_run_row(audit_db):  # its row is written
        assert time.monotonic() < deadline and killed.poll() is None
        time.sleep(0.1)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=60)
    (debris,) = tmp_path.glob(".out.staging-*")
    ((killed_id, status, _),) = audit_runs(audit_db)
    assert status == "running"  # what SIGKILL leaves: no process left to record an outcome
    time.sleep(1.1)  # staging names have a resolution of one second

    monkeypatch.setenv("DEIDCODE_KEY", LONG_RUN_KEY)
    write_jsonl(tmp_path / "notes.jsonl", [{"note_id": "n1", "patient_id": "p1", "text": "ok"}])
    from pipeline.cli import main

    base = ["run", "--input", str(tmp_path / "notes.jsonl"), "--format", "jsonl"]
    base += ["--config", str(tmp_path / "patterns.yaml"), "--stale-after", "0.0002"]
    assert main([*base, "--output", str(tmp_path / "out")]) == 0

    stale = manifest(tmp_path / "out")["stale_runs"]
    assert stale["abandoned_run_ids"] == [killed_id]
    assert stale["staging_dirs"] == [str(debris)]
    assert stale["staging_dirs_removed"] == []
    assert debris.is_dir(), "removed without --clean-stale"
    runs = audit_runs(audit_db)
    assert runs[0] == (killed_id, "abandoned", "abandoned")
    assert runs[1][1] == "succeeded"

    assert main([*base, "--output", str(tmp_path / "out"), "--overwrite", "--clean-stale"]) == 0
    assert not debris.exists()
    stale = manifest(tmp_path / "out")["stale_runs"]
    assert stale["staging_dirs_removed"] == [str(debris)]
    assert stale["abandoned_run_ids"] == []  # already marked by the run before


def _has_run_row(audit_db) -> bool:
    """Whether the run has written its row (the file may exist before its tables do)."""
    import sqlalchemy as sa

    try:
        return audit_db.exists() and bool(audit_runs(audit_db))
    except sa.exc.OperationalError:
        return False


def test_a_younger_staging_directory_is_left_alone(tmp_path, run_key):
    from pipeline.cli import main
    from tests.conftest import SAMPLE_CSV

    concurrent = _staging(tmp_path, dt.datetime.now(dt.UTC))
    assert main(["run", "--input", str(SAMPLE_CSV), "--format", "csv", "--config",
                 str(_patterns_only(tmp_path)), "--output", str(tmp_path / "out"),
                 "--clean-stale"]) == 0  # fmt: skip
    assert manifest(tmp_path / "out")["stale_runs"]["staging_dirs"] == []
    assert (tmp_path / concurrent).is_dir()


def _patterns_only(tmp_path):
    config = tmp_path / "patterns.yaml"
    config.write_text("detection:\n  detectors:\n    - name: presidio_patterns\n")
    return config
