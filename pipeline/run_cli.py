"""``deidcode run``: the subcommand's options and what it prints."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from pipeline.cli_common import CliError, add_beam_flag_option
from transforms.io.formats import DEFAULT_QUERY_PARTITIONS, FORMATS

if TYPE_CHECKING:
    from pipeline.job import RunRequest

EPILOG_RUN = """\
Any flag not listed above is passed to Apache Beam's PipelineOptions, for example
--runner=DataflowRunner or --direct_num_workers=2. Without --runner deidcode uses
the in-process FnApiRunner, which needs no network.

The key for patient pseudonyms and date shifting is read from the environment
variable DEIDCODE_KEY (the name is set by keys.env_var in the config) or from
--key-file. The run refuses to start without one.

Exit status: 0 on success; 2 for a usage, config, key or input error found
before the run starts; 1 when the run itself fails (no _SUCCESS is written); 3 when
it finished but read fewer than --min-records or quarantined more than
--max-quarantine-rate (tables published without _SUCCESS);
143 when stopped by SIGTERM and 130 by SIGINT (Ctrl-C): the staging directory
is removed and the audit row is marked failed with reason "terminated".
"""


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="de-identify a note export",
        description="De-identify a note export into Parquet tables, an audit log and a manifest.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # an abbreviation must not swallow a Beam flag
    )
    add_job_arguments(run, output_required=True)
    add_run_options(run)


def add_job_arguments(command: argparse.ArgumentParser, *, output_required: bool) -> None:
    """What a run is about: its input, config, key, audit database and output (shared by
    ``run`` and ``check``)."""
    run = command
    run.add_argument(
        "--input",
        required=True,
        metavar="PATH_OR_GLOB",
        help="an export file, a directory of them, or a glob such as 'notes/*.csv'",
    )
    run.add_argument(
        "--input-glob",
        metavar="PATTERN",
        help="with a directory --input, read only the files whose name matches, e.g. "
        "'notes_*.csv' (default: every file with the format's extension; others are skipped "
        "and listed in the manifest)",
    )
    run.add_argument(
        "--format",
        required=True,
        choices=list(FORMATS),
        help="the export's format: csv, jsonl, parquet (columns mapped by input.columns); "
        "fhir-ndjson (a FHIR Bulk Data export), hl7v2 (MDM/ORU messages, batches or MLLP "
        "dumps) or omop-note (an OMOP NOTE table as CSV or Parquet, or with --query)",
    )
    run.add_argument(
        "--query",
        metavar="SQL",
        help="with --format omop-note, read the NOTE rows this SELECT returns from the "
        "database whose SQLAlchemy URL is --input",
    )
    run.add_argument(
        "--partitions",
        type=int,
        default=DEFAULT_QUERY_PARTITIONS,
        metavar="N",
        help=f"with --query, read in N note_id ranges, one per worker (default "
        f"{DEFAULT_QUERY_PARTITIONS})",
    )
    run.add_argument(
        "--output",
        required=output_required,
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
        "(default: audit.config db_url, else DIR.audit.sqlite beside the output)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output directory once the new run succeeds",
    )


def add_run_options(run: argparse.ArgumentParser) -> None:
    """How a run behaves: thresholds, stale-run handling, progress, Beam flags."""
    run.add_argument(
        "--min-records",
        type=int,
        default=1,
        metavar="N",
        help="fail (exit 3, tables published without _SUCCESS) when fewer records are read; "
        "default 1, so an empty or header-only export is not a success",
    )
    run.add_argument(
        "--max-quarantine-rate",
        type=float,
        metavar="R",
        help="fail (exit 3, tables published without _SUCCESS) when more than this share of "
        "records is quarantined, e.g. 0.05; default: no limit",
    )
    run.add_argument(
        "--stale-after",
        type=float,
        default=24.0,
        metavar="HOURS",
        help="a staging directory or 'running' audit row of this output older than this is a "
        "killed run's: it is reported and the row marked abandoned (default 24)",
    )
    run.add_argument(
        "--clean-stale",
        action="store_true",
        help="also remove the stale staging directories found (by default they are only "
        "reported, so that their tables can be inspected)",
    )
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="show no progress while the pipeline runs (by default a live line on a terminal, "
        "and a log line every --progress-interval seconds without one)",
    )
    run.add_argument(
        "--progress-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="period of the progress log line when stderr is not a terminal (default 60)",
    )
    add_beam_flag_option(run)


def job_request(args: argparse.Namespace, **behaviour: Any) -> RunRequest:
    """A RunRequest from the arguments ``add_job_arguments`` declares, plus ``behaviour``."""
    from pipeline.job import RunRequest

    return RunRequest(
        input=args.input,
        input_glob=args.input_glob,
        query=args.query,
        partitions=args.partitions,
        fmt=args.format,
        output=args.output,
        config_path=args.config,
        key_file=args.key_file,
        audit_db=args.audit_db,
        overwrite=args.overwrite,
        **behaviour,
    )


def run_deid_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline.job import run_deid
    from pipeline.options import check_beam_flags
    from pipeline.progress import ProgressSettings
    from pipeline.summary import summary_table

    if args.min_records < 0:
        raise CliError("--min-records must be 0 or more")
    if args.max_quarantine_rate is not None and not 0.0 <= args.max_quarantine_rate <= 1.0:
        raise CliError("--max-quarantine-rate must be a share between 0 and 1, e.g. 0.05")
    if not args.progress_interval > 0:
        raise CliError("--progress-interval must be a positive number of seconds")
    if not args.stale_after > 0:
        raise CliError("--stale-after must be a positive number of hours, e.g. 24")
    check_beam_flags(beam_args, allow_unknown=args.allow_unknown_beam_flags)
    summary = run_deid(
        job_request(
            args,
            beam_args=beam_args,
            min_records=args.min_records,
            max_quarantine_rate=args.max_quarantine_rate,
            stale_after=dt.timedelta(hours=args.stale_after),
            clean_stale=args.clean_stale,
            progress=ProgressSettings(
                enabled=not args.no_progress, interval_s=args.progress_interval
            ),
        )
    )
    print(
        f"run {summary.run_id}: read {summary.records_read}, wrote {summary.notes_written} notes, "
        f"quarantined {summary.records_quarantined}; outputs in {summary.output}"
    )
    print(summary_table(summary), end="")
    return 0
