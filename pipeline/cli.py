"""The ``deidcode`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence

from pipeline import __version__
from pipeline.check_cli import add_check_parser, run_check_command
from pipeline.cli_common import CliError
from pipeline.eval_cli import add_eval_parser, run_eval_command
from pipeline.failures import describe_failure
from pipeline.hcc_cli import add_hcc_parser, run_hcc_command
from pipeline.models_cli import add_models_parser, run_models_command
from pipeline.release_cli import add_release_parser, run_release_command
from pipeline.review.cli import add_review_parser, run_review_command
from pipeline.run_cli import add_run_parser, run_deid_command
from pipeline.signals import Terminated, received, terminate_on_signals


def user_errors() -> tuple[type[BaseException], ...]:
    from onnx_models.registry import ModelRegistryError
    from pipeline.audit_writer import AuditDatabaseError
    from pipeline.eval_report import EvalError
    from pipeline.hcc_from_run import FromRunError
    from pipeline.keys import KeyConfigError
    from pipeline.lifecycle import OutputDirError
    from pipeline.options import UnknownBeamFlagError
    from pipeline.release import ReleaseError
    from pipeline.review.runs import RunReadError
    from schemas.config import ConfigError
    from transforms.coding.codeset import CodeSetError
    from transforms.coding.rules import CodingRuleError
    from transforms.coding.step import CodingConfigError
    from transforms.detection.base import DetectorConfigError
    from transforms.detection.ner.engine import NerConfigError
    from transforms.entities.assertion import AssertionRuleError
    from transforms.entities.step import EntityConfigError
    from transforms.evaluation.assertion_metrics import AssertionGoldError
    from transforms.evaluation.gold_formats import GoldFormatError
    from transforms.hcc.tables import HccTableError
    from transforms.io.readers import InputError
    from transforms.redaction.operator import OperatorConfigError
    from transforms.review.queue import ReviewError

    return (
        CliError,
        UnknownBeamFlagError,
        AuditDatabaseError,
        EvalError,
        FromRunError,
        GoldFormatError,
        AssertionGoldError,
        AssertionRuleError,
        EntityConfigError,
        CodingConfigError,
        CodeSetError,
        CodingRuleError,
        HccTableError,
        ModelRegistryError,
        NerConfigError,
        ConfigError,
        KeyConfigError,
        InputError,
        DetectorConfigError,
        OperatorConfigError,
        OutputDirError,
        ReleaseError,
        RunReadError,
        ReviewError,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deidcode",
        allow_abbrev=False,
        description=(
            "De-identify clinical note exports and suggest diagnosis codes, "
            "as an Apache Beam batch pipeline."
        ),
    )
    parser.add_argument("--version", action="version", version=f"deidcode {__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print tracebacks for internal errors (they may quote input data; "
        "do not use on production PHI)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="deidcode's log level (default: INFO). Logs carry IDs and counts, never note text.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    add_run_parser(commands)
    add_check_parser(commands)
    add_models_parser(commands)
    add_eval_parser(commands)
    add_hcc_parser(commands)
    add_release_parser(commands)
    add_review_parser(commands)
    return parser


# Beam warnings that say nothing about the run: Google Cloud client libraries are
# absent (we use none), and the memory probe finds no resource module (a platform
# detail). Anything else Beam warns about is shown.
HARMLESS_BEAM_WARNINGS = (
    "apitools not found",
    "Resource module is not available",
    "No semi_persistent_directory found",  # a worker process's, relayed to this one
)


class _QuietBeam(logging.Filter):
    """Drop Beam's harmless warnings and, without --debug, Beam's logged tracebacks: a
    worker's exception is logged with its stack and message, which may quote a note;
    the CLI prints its own one-line message for the same failure."""

    def __init__(self, *, debug: bool) -> None:
        super().__init__()
        self.debug = debug

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(harmless in message for harmless in HARMLESS_BEAM_WARNINGS):
            return False
        from_beam = record.name.startswith("apache_beam")
        return self.debug or not (from_beam and record.levelno >= logging.ERROR)


def _configure_logging(level: str, *, debug: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_QuietBeam(debug=debug))
    logging.getLogger("deidcode").setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # presidio logs each recognizer it loads at INFO; Beam logs its plan at INFO.
    for noisy in ("presidio-analyzer", "apache_beam"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _stopped(stop: Terminated) -> int:
    print(
        f"deidcode: stopped by {stop}; no _SUCCESS was written and the staging "
        "directory was removed",
        file=sys.stderr,
    )
    return stop.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Pipelines pass flags on to Beam; release takes Beam's filesystem flags (--s3_…).
    if args.command not in ("run", "hcc", "release") and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args.log_level, debug=args.debug)
    # Imported after logging is set up: it loads Beam, whose import logs warnings.
    from pipeline.lifecycle import RunThresholdError

    try:
        with terminate_on_signals():
            if args.command == "run":
                return run_deid_command(args, extra)
            if args.command == "check":
                return run_check_command(args)
            if args.command == "models":
                return run_models_command(args)
            if args.command == "eval":
                return run_eval_command(args)
            if args.command == "hcc":
                return run_hcc_command(args, extra)
            if args.command == "release":
                return run_release_command(args, extra)
            if args.command == "review":
                return run_review_command(args)
    except user_errors() as exc:
        print(f"deidcode: error: {exc}", file=sys.stderr)
        return 2
    except Terminated as stop:
        return _stopped(stop)
    except RunThresholdError as unfit:
        print(
            f"deidcode: error: {unfit}; the tables are in the output directory, without _SUCCESS",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        print("deidcode: interrupted; no _SUCCESS was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback dump
        stop = received()  # a signal may surface wrapped in a library's exception (Beam's)
        if stop is not None:
            return _stopped(stop)
        output = getattr(args, "output", None)
        near = os.path.dirname(os.path.abspath(output)) if output else None
        outcome = "; no _SUCCESS was written" if args.command in ("run", "hcc") else ""
        print(
            f"deidcode: error: the {args.command} failed: {describe_failure(exc, near=near)}"
            f"{outcome}",
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
