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


class UnknownBeamFlagError(ValueError):
    """A flag neither deidcode nor Beam knows; a typo would otherwise run locally."""


def unknown_beam_flags(beam_args: Sequence[str]) -> list[str]:
    """The flags in ``beam_args`` that no Beam PipelineOptions class declares."""
    options = PipelineOptions(list(beam_args))
    known = options.get_all_options(retain_unknown_options=False)
    every = options.get_all_options(retain_unknown_options=True)
    return sorted(f"--{name}" for name in set(every) - set(known))


def check_beam_flags(beam_args: Sequence[str], *, allow_unknown: bool) -> None:
    """Refuse unknown flags (``--runer=DataflowRunner``), unless the user allows them."""
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
    return PipelineOptions(args)
