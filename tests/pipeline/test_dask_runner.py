"""What Beam's DaskRunner does with a pipeline, on a dask.distributed LocalCluster
with 2 worker processes, and why deidcode refuses it.

Two defects of Beam 2.77's DaskRunner, each reproduced in a few lines here:

- it computes only the pipeline's last branch: every other sink never runs, and
  the run still reports success;
- a consumer of one output of a multi-output step receives all of its outputs.

deidcode's pipelines write a dozen tables from branches and route quarantined
records through tagged outputs, so on DaskRunner tables would be missing and
notes would reach the quarantine branch (an earlier try died on exactly that).
If a Beam release fixes either, its test here fails: then try the job on Dask
again and update the README.
"""

from __future__ import annotations

import os
from pathlib import Path

import apache_beam as beam
import pytest

from tests.conftest import SAMPLE_CSV
from tests.pipeline.helpers import run_cli

distributed = pytest.importorskip("distributed")
pytest.importorskip("dask")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


def _recorder(folder: Path, branch: str):
    # A closure, so the workers receive it by value rather than importing this module.
    def record(element):
        with open(folder / f"{branch}-{os.getpid()}.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{element}\n")
        return element

    return record


def _split_odd_even():
    def split(number):
        if number % 2:
            yield beam.pvalue.TaggedOutput("odd", number)
        else:
            yield number

    return split


def _run_on_dask(cluster, build) -> None:
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.dask.dask_runner import DaskRunner

    options = PipelineOptions([f"--dask_client_address={cluster.scheduler_address}"])
    pipeline = beam.Pipeline(runner=DaskRunner(), options=options)
    build(pipeline)
    result = pipeline.run()
    try:
        result.wait_until_finish()
    finally:
        result.client.close()


def _seen(folder: Path) -> dict[str, list[int | str]]:
    seen: dict[str, list[int | str]] = {}
    for path in sorted(folder.iterdir()):
        values = path.read_text(encoding="utf-8").split()
        seen.setdefault(path.name.split("-")[0], []).extend(
            int(v) if v.isdigit() else v for v in values
        )
    return {branch: sorted(values, key=str) for branch, values in seen.items()}


def test_dask_runner_runs_only_the_last_branch(cluster, tmp_path):
    def build(pipeline):
        _ = pipeline | "First" >> beam.Create([1, 2]) | "A" >> beam.Map(_recorder(tmp_path, "a"))
        _ = pipeline | "Second" >> beam.Create(["x"]) | "B" >> beam.Map(_recorder(tmp_path, "b"))

    _run_on_dask(cluster, build)
    # FnApiRunner would run both branches: {"a": [1, 2], "b": ["x"]}.
    assert _seen(tmp_path) == {"b": ["x"]}


def test_dask_runner_gives_a_tagged_output_every_output_of_its_step(cluster, tmp_path):
    def build(pipeline):
        outputs = (
            pipeline
            | beam.Create([1, 2, 3, 4])
            | beam.FlatMap(_split_odd_even()).with_outputs("odd", main="even")
        )
        _ = outputs.odd | "Odd" >> beam.Map(_recorder(tmp_path, "odd"))

    _run_on_dask(cluster, build)
    # FnApiRunner gives the odd branch [1, 3].
    assert _seen(tmp_path) == {"odd": [1, 2, 3, 4]}


def test_deidcode_refuses_the_dask_runner_before_it_starts(tmp_path, run_key, capsys):
    out = tmp_path / "run"
    code = run_cli(
        "--input", str(SAMPLE_CSV), "--format", "csv", "--output", str(out),
        "--runner=apache_beam.runners.dask.dask_runner.DaskRunner",
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "DaskRunner" in err and "last branch" in err
    assert not out.exists()
