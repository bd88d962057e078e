"""Beam pipeline options: pass-through flags, with FnApiRunner as the local default."""

from __future__ import annotations

from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions

# Beam's default DirectRunner may hand the job to Prism, which it downloads on
# first use. deidcode runs offline, so the local default is the in-process
# FnApiRunner; any other runner must be asked for with --runner.
DEFAULT_RUNNER = "FnApiRunner"


def has_flag(args: Sequence[str], name: str) -> bool:
    return any(arg == name or arg.startswith(name + "=") for arg in args)


def beam_options(beam_args: Sequence[str]) -> PipelineOptions:
    args = list(beam_args)
    if not has_flag(args, "--runner"):
        args.append(f"--runner={DEFAULT_RUNNER}")
    return PipelineOptions(args)
