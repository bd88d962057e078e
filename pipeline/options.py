"""Beam pipeline options: pass-through flags, with FnApiRunner as the local default."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

# Beam's default DirectRunner may hand the job to Prism, which it downloads on
# first use. deidcode runs offline, so the local default is the in-process
# FnApiRunner; any other runner must be asked for with --runner.
DEFAULT_RUNNER = "FnApiRunner"
WORKER_LOG_LEVEL = "WARNING"


def has_flag(args: Sequence[str], name: str) -> bool:
    return any(arg == name or arg.startswith(name + "=") for arg in args)


class UnknownBeamFlagError(ValueError):
    """A flag neither deidcode nor Beam knows; a typo would otherwise run locally."""


def unknown_beam_flags(beam_args: Sequence[str]) -> list[str]:
    """The flags in ``beam_args`` that no Beam PipelineOptions class declares."""
    options = PipelineOptions(list(beam_args))
    known = options.get_all_options(retain_unknown_options=False)
    every = options.get_all_options(retain_unknown_options=True)
    return sorted(f"--{name}" for name in set(every) - set(known))


class UnsupportedRunnerError(UnknownBeamFlagError):
    """A runner known to lose or misroute a deidcode pipeline's records."""


# Runners a job must not start on, with why. Beam 2.77's DaskRunner computes only
# the last branch of a pipeline (every other sink silently never runs) and hands
# each consumer of a multi-output step all of its outputs, not just the one it
# reads (tests/pipeline/test_dask_runner.py reproduces both in a few lines).
UNSUPPORTED_RUNNERS = {
    "DaskRunner": (
        "Beam's DaskRunner runs only a pipeline's last branch and mixes a step's tagged "
        "outputs, so it would drop tables and misroute quarantined records; use "
        "FnApiRunner (the default), PortableRunner with Flink or Spark, or Dataflow"
    ),
}


def requested_runner(beam_args: Sequence[str]) -> str | None:
    """The runner's class name a --runner flag asks for (``a.b.DaskRunner`` -> ``DaskRunner``)."""
    runner = PipelineOptions(list(beam_args)).get_all_options().get("runner")
    return str(runner).rsplit(".", 1)[-1] if runner else None


def check_beam_flags(beam_args: Sequence[str], *, allow_unknown: bool) -> None:
    """Refuse unknown flags (``--runer=DataflowRunner``), unless the user allows them,
    and runners that would lose records."""
    runner = requested_runner(beam_args)
    if runner in UNSUPPORTED_RUNNERS:
        raise UnsupportedRunnerError(f"--runner={runner}: {UNSUPPORTED_RUNNERS[runner]}")
    unknown = [] if allow_unknown else unknown_beam_flags(beam_args)
    if unknown:
        raise UnknownBeamFlagError(
            f"unknown option(s) {', '.join(unknown)}: neither deidcode nor Apache Beam "
            "declares them (check the spelling; --allow-unknown-beam-flags passes them on)"
        )


def beam_options(beam_args: Sequence[str]) -> PipelineOptions:
    args = list(beam_args)
    if not has_flag(args, "--runner"):
        args.append(f"--runner={DEFAULT_RUNNER}")
    if not has_flag(args, "--default_sdk_harness_log_level"):
        # Worker processes (multi_processing, remote runners) log at INFO by default:
        # hundreds of lines a run that bury deidcode's own.
        args.append(f"--default_sdk_harness_log_level={WORKER_LOG_LEVEL}")
    return PipelineOptions(args)


@contextmanager
def quiet_local_workers(options: PipelineOptions) -> Iterator[None]:
    """Hand the worker log level to FnApiRunner's worker processes.

    With ``--direct_running_mode=multi_processing`` FnApiRunner starts its workers
    with empty pipeline options, so they log at INFO (about 300 lines a run). Beam's
    worker reads its options from the file named by ``PIPELINE_OPTIONS_FILE`` when
    that is set, and the workers inherit this process's environment."""
    direct = options.view_as(DirectOptions)
    if direct.direct_running_mode != "multi_processing" or "PIPELINE_OPTIONS_FILE" in os.environ:
        yield
        return
    level = options.get_all_options().get("default_sdk_harness_log_level") or WORKER_LOG_LEVEL
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="deidcode-workers-") as handle:
        json.dump({"options": {"default_sdk_harness_log_level": level}}, handle)
        handle.flush()
        os.environ["PIPELINE_OPTIONS_FILE"] = handle.name
        try:
            yield
        finally:
            del os.environ["PIPELINE_OPTIONS_FILE"]
