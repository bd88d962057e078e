"""`deidcode run` on Beam's PortableRunner: a job server and an external pool of
worker processes, as Flink, Spark and Dataflow Runner v2 run Python pipelines.
The workers are separate processes that see only what the pipeline carries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import free_port, manifest, run_export


def wait_for(port: int, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def portable_endpoints():
    """A job server and a worker pool; the pool starts workers with this
    interpreter (its directory first on PATH, as a worker container would have it)."""
    job_port, pool_port = free_port(), free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    job_server = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main",
         "--port", str(job_port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    pool = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
         f"--service_port={pool_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        wait_for(job_port, job_server)
        wait_for(pool_port, pool)
        yield job_port, pool_port
    finally:
        for process in (job_server, pool):
            process.terminate()
            process.wait(timeout=30)


def test_a_run_on_the_portable_runner_equals_the_in_process_run(
    tmp_path, run_key, portable_endpoints
):
    job_port, pool_port = portable_endpoints
    config = tmp_path / "patterns.yaml"
    config.write_text(
        "detection:\n  detectors: [{name: presidio_patterns}]\n"
        "entities: {enabled: false}\ncoding: {enabled: false}\n"
    )
    local, portable = tmp_path / "local", tmp_path / "portable"
    assert run_export(SAMPLE_CSV, local, fmt="csv", config=config) == 0
    code = run_export(
        SAMPLE_CSV,
        portable,
        "--runner=PortableRunner",
        f"--job_endpoint=localhost:{job_port}",
        "--environment_type=EXTERNAL",
        f"--environment_config=localhost:{pool_port}",
        fmt="csv",
        config=config,
    )
    assert code == 0
    assert (portable / "_SUCCESS").exists()
    counts = manifest(portable)["counts"]
    assert counts["records_read"] == 50
    assert counts["records_read"] == counts["notes_written"] + counts["records_quarantined"]
    outputs = {m: manifest(out)["outputs"] for m, out in (("local", local), ("p", portable))}
    for table in ("notes", "phi_spans", "quarantine"):
        assert outputs["local"][table] == outputs["p"][table]  # byte-identical shards
