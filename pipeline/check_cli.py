"""``deidcode check``: the subcommand's options and what it prints."""

from __future__ import annotations

import argparse

from pipeline.cli_common import CliError
from pipeline.run_cli import add_job_arguments, job_request


def add_check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="check a run's input, config, key, models and output without running it",
        description=(
            "Check everything a run would check before it starts: config, key, input files "
            "and columns, models (sha256 and runtime), output directory and audit database; "
            "read and validate the first records; print what a run would do. Writes nothing. "
            "Exit status 0 when a run could start, 2 otherwise (the message names the file, "
            "field or record). For the CI of a job's own config."
        ),
        allow_abbrev=False,
    )
    add_job_arguments(check, output_required=False)
    check.add_argument(
        "--sample-records",
        type=int,
        default=1000,
        metavar="N",
        help="read and validate the first N records (default 1000; 0 reads none)",
    )


def run_check_command(args: argparse.Namespace) -> int:
    from pipeline.check import check_run

    if args.sample_records < 0:
        raise CliError("--sample-records must be 0 or more")
    request = job_request(args)
    report = check_run(request, sample_records=args.sample_records)
    print(report.render(), end="")
    print("check passed: a run with these settings can start")
    return 0
