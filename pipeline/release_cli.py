"""``deidcode release``: the subcommand's options and what it prints."""

from __future__ import annotations

import argparse


def add_release_parser(commands: argparse._SubParsersAction) -> None:
    release = commands.add_parser(
        "release",
        help="copy the releasable tables of a finished run, and write its re-identification report",
        description=(
            "Copy what may leave the hospital out of a finished run: notes/ and entities/ "
            "(codes/ once written), without the columns that point into the original text, "
            "and a release manifest without input digests. phi_spans/, audit/, quarantine/ "
            "and the run manifest stay internal. The re-identification report "
            "(expected missed PHI, k-anonymity of the structured columns, operators used) is "
            "written beside the release, not in it."
        ),
        allow_abbrev=False,
    )
    release.add_argument("run_dir", metavar="RUN_DIR", help="a finished run's output directory")
    release.add_argument(
        "--to",
        required=True,
        metavar="DIR",
        help="a new or empty directory, or an s3:// / gs:// prefix (with Beam's store flags)",
    )
    release.add_argument(
        "--config",
        metavar="FILE.yaml",
        help="the run's config; its release section sets the quasi-identifiers and k",
    )
    release.add_argument(
        "--key-file",
        metavar="FILE",
        help="the run's key (default: the environment variable keys.env_var names); it "
        "must be the run's, and pseudonymises the note ids",
    )
    release.add_argument(
        "--report",
        metavar="FILE.html",
        help="where to write the report (default: DIR.release_report.html, beside DIR)",
    )


def run_release_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    from apache_beam.io.filesystems import FileSystems

    from pipeline.keys import load_key
    from pipeline.options import beam_options, check_beam_flags
    from pipeline.release import make_release
    from schemas.config import load_config

    # A run or release in object storage: Beam's filesystem flags (an S3 endpoint).
    check_beam_flags(beam_args, allow_unknown=False)
    FileSystems.set_options(beam_options(beam_args))
    config = load_config(args.config)
    key = load_key(
        key_file=args.key_file, env_var=config.keys.env_var, min_chars=config.keys.min_key_chars
    )
    summary = make_release(
        args.run_dir, args.to, config=config.release, master_key=key, report=args.report
    )
    tables = ", ".join(f"{name} {rows}" for name, rows in summary.tables.items())
    anonymity = summary.k_anonymity
    print(f"release {summary.release_dir}: {tables}")
    if anonymity.columns:
        print(
            f"k-anonymity on {', '.join(anonymity.columns)}: smallest group "
            f"{anonymity.smallest_group}; {len(anonymity.patients_below_k)} patient(s) below "
            f"k={anonymity.k}, listed in the report"
        )
    print(f"report {summary.report} (internal: it names patients to consider suppressing)")
    return 0
