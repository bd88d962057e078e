"""The ``deidcode`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from pipeline import __version__

EPILOG_RUN = """\
Any flag not listed above is passed to Apache Beam's PipelineOptions, for example
--runner=DataflowRunner or --direct_num_workers=2. Without --runner deidcode uses
the in-process FnApiRunner, which needs no network.

The key for patient pseudonyms and date shifting is read from the environment
variable DEIDCODE_KEY (the name is set by keys.env_var in the config) or from
--key-file. The run refuses to start without one.

Exit status: 0 on success; 2 for a usage, config, key or input error found
before the run starts; 1 when the run itself fails (no _SUCCESS is written).
"""


class CliError(Exception):
    """A user-facing error: printed as one line, with no traceback."""


def user_errors() -> tuple[type[BaseException], ...]:
    from pipeline.job import OutputDirError
    from pipeline.keys import KeyConfigError
    from schemas.config import ConfigError
    from transforms.detectors.base import DetectorConfigError
    from transforms.readers import InputError
    from transforms.redaction import OperatorConfigError

    return (
        ConfigError,
        KeyConfigError,
        InputError,
        DetectorConfigError,
        OperatorConfigError,
        OutputDirError,
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

    run = commands.add_parser(
        "run",
        help="de-identify a note export",
        description="De-identify a note export into Parquet tables, an audit log and a manifest.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # an abbreviation must not swallow a Beam flag
    )
    run.add_argument(
        "--input",
        required=True,
        metavar="PATH_OR_GLOB",
        help="an export file, a directory of them, or a glob such as 'notes/*.csv'",
    )
    run.add_argument(
        "--format",
        required=True,
        choices=["csv", "jsonl", "parquet"],
        help="the export's file format",
    )
    run.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="directory for this run's outputs; it must be new or empty",
    )
    run.add_argument(
        "--config",
        metavar="FILE.yaml",
        help="YAML config (see the README's config reference); "
        "omitted, the embedded defaults apply",
    )
    run.add_argument(
        "--key-file",
        metavar="FILE",
        help="file holding the run key (mode 600); overrides DEIDCODE_KEY",
    )
    run.add_argument(
        "--audit-db",
        metavar="URL",
        help="SQLAlchemy URL of the audit database "
        "(default: audit.config db_url, else DIR/audit.sqlite)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output directory once the new run succeeds",
    )
    return parser


class _DropBeamImportNoise(logging.Filter):
    """Beam warns on import that Google Cloud client libraries are absent; irrelevant here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("apitools not found")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropBeamImportNoise())
    logging.getLogger("deidcode").setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # presidio logs each recognizer it loads at INFO; Beam logs its plan at INFO.
    for noisy in ("presidio-analyzer", "apache_beam"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _run(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline.job import RunRequest, run_deid

    summary = run_deid(
        RunRequest(
            input=args.input,
            fmt=args.format,
            output=args.output,
            config_path=args.config,
            key_file=args.key_file,
            audit_db=args.audit_db,
            overwrite=args.overwrite,
            beam_args=beam_args,
        )
    )
    print(
        f"run {summary.run_id}: read {summary.records_read}, wrote {summary.notes_written} notes, "
        f"quarantined {summary.records_quarantined}; outputs in {summary.output}"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command != "run" and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args.log_level)
    try:
        if args.command == "run":
            return _run(args, extra)
    except user_errors() as exc:
        print(f"deidcode: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deidcode: interrupted; no _SUCCESS was written", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against a traceback dump
        # Library messages can quote input data, so only the type is shown.
        print(
            f"deidcode: error: the run failed ({type(exc).__name__}); no _SUCCESS was written. "
            f"Re-run with --debug for a traceback (it may quote input data).",
            file=sys.stderr,
        )
        if args.debug:
            traceback.print_exc()
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
