"""A failure names what failed and where, with the errno's text, and prints no traceback
(which could quote a note) unless --debug."""

from __future__ import annotations

import errno
import os
import random
import resource
import subprocess
import sys

from pipeline.cli import main
from pipeline.failures import describe_failure, describe_os_error
from tests.conftest import REPO_ROOT, SAMPLE_CSV
from tests.pipeline.helpers import write_jsonl


def _disk_full_error() -> OSError:
    """A real ENOSPC: /dev/full fails every write that reaches the device."""
    try:
        with open("/dev/full", "wb", buffering=0) as handle:
            handle.write(b"x")
    except OSError as exc:
        return exc
    raise AssertionError("/dev/full accepted a write")


def test_a_full_disk_is_named_with_the_place_and_what_to_do(tmp_path):
    error = _disk_full_error()
    assert error.errno == errno.ENOSPC
    message = describe_os_error(error, near=str(tmp_path))
    assert message.startswith(f"No space left on device [ENOSPC] while writing under {tmp_path}")
    assert "the disk is full" in message and "MiB free there now" in message


def test_beams_wrapping_is_seen_through_and_other_errors_are_named_by_type_only():
    try:
        try:
            raise PermissionError(errno.EACCES, "Permission denied", "/data/deid/notes")
        except PermissionError as inner:
            raise RuntimeError("PermissionError ... [while running 'WriteNotes']") from inner
    except RuntimeError as wrapped:
        message = describe_failure(wrapped)
    assert message.startswith("Permission denied [EACCES] at /data/deid/notes: permission")
    quoting = ValueError("could not parse 'Jane Roe, DOB 1/2/1950'")
    assert describe_failure(quoting).startswith("ValueError (re-run with --debug")
    assert "Roe" not in describe_failure(quoting)


def test_an_output_under_a_file_stops_before_the_run(tmp_path, run_key, capsys):
    blocker = tmp_path / "deid"
    blocker.write_text("not a directory")
    code = main(["run", "--input", str(SAMPLE_CSV), "--format", "csv",
                 "--output", str(blocker / "2026-12-01")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert f"output {blocker / '2026-12-01'} cannot be created: {blocker} is a file" in err


def test_a_write_failing_mid_run_names_errno_and_place_without_a_traceback(tmp_path):
    # Random words compress badly, so the notes table outgrows the file-size limit
    # (RLIMIT_FSIZE: a real EFBIG from the kernel, as a full disk gives ENOSPC).
    words = random.Random(7)
    notes = [
        {
            "note_id": f"n{i}",
            "patient_id": "p1",
            "text": "Jane Roe "
            + " ".join(
                "".join(words.choices("abcdefghijklmnopqrstuvwxyz", k=7)) for _ in range(80)
            ),
        }
        for i in range(1500)
    ]
    export = write_jsonl(tmp_path / "notes.jsonl", notes)
    config = tmp_path / "patterns.yaml"
    config.write_text(
        "detection:\n  detectors:\n    - name: presidio_patterns\noutput:\n  num_shards: 1\n"
    )
    limit = 256 * 1024  # the export itself is larger; it is only read

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    process = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", "--input", str(export), "--format",
         "jsonl", "--output", str(tmp_path / "out"), "--config", str(config)],
        cwd=REPO_ROOT,
        env={**os.environ, "DEIDCODE_KEY": "0123456789abcdef0123456789abcdef-efbig"},
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=300,
    )  # fmt: skip

    assert process.returncode == 1, process.stderr
    assert f"File too large [EFBIG] while writing under {tmp_path}" in process.stderr
    assert "ulimit -f" in process.stderr
    assert "Traceback" not in process.stderr
    assert "Roe" not in process.stderr
    assert not (tmp_path / "out" / "_SUCCESS").exists()


def test_a_full_audit_database_is_named_by_its_url_and_driver_code(tmp_path):
    import datetime as dt

    import pytest
    import sqlalchemy as sa

    from pipeline.audit_writer import AuditDatabase, AuditWriteError

    database = AuditDatabase(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    database.prepare()
    # A real SQLITE_FULL: the database may not grow past its current pages.
    sa.event.listen(
        database.engine,
        "connect",
        lambda connection, _: connection.execute("PRAGMA max_page_count = 8"),
    )
    database.engine.dispose()  # new connections get the pragma
    with pytest.raises(AuditWriteError) as raised:
        for number in range(200):
            database.start_run(
                run_id=f"run-{number:04d}-" + "x" * 40,
                started_at=dt.datetime.now(dt.UTC),
                config_sha256="c" * 64,
                key_fingerprint="k" * 64,
                package_version="0",
                output_dir=str(tmp_path / "out") * 20,
            )
    database.dispose()
    message = describe_failure(raised.value)
    assert message.startswith(f"the audit database sqlite:///{tmp_path / 'audit.sqlite'} failed")
    assert "(SQLITE_FULL): its disk is full" in message
