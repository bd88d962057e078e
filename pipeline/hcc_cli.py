"""``deidcode hcc``: the subcommand's options and what it prints."""

from __future__ import annotations

import argparse

from pipeline.cli_common import CliError, add_beam_flag_option


def add_hcc_parser(commands: argparse._SubParsersAction) -> None:
    hcc = commands.add_parser(
        "hcc", help="CMS-HCC risk adjustment", description="CMS-HCC V24/V28 risk adjustment."
    )
    actions = hcc.add_subparsers(dest="hcc_command", metavar="ACTION", required=True)
    score = actions.add_parser(
        "score",
        help="score members' diagnoses under CMS-HCC V24/V28",
        description=(
            "Score members under the CMS-HCC models of a payment year, with the blend, "
            "normalisation and MA coding adjustment of that year. Writes DIR/risk_scores, "
            "DIR/hcc, DIR/diagnoses and DIR/quarantine as Parquet, a manifest and _SUCCESS."
        ),
        allow_abbrev=False,
    )
    score.add_argument(
        "--members",
        required=True,
        metavar="PATH_OR_GLOB",
        help="member file(s): member_id, birth_date (or age), sex, orec, dual_status "
        "(none|partial|full), institutional, new_enrollee, snp",
    )
    score.add_argument(
        "--diagnoses",
        required=True,
        metavar="PATH_OR_GLOB",
        help="diagnosis file(s): member_id, code, date_of_service, encounter_id, source "
        "(face_to_face|video|audio_only|chart_review)",
    )
    score.add_argument(
        "--payment-year",
        required=True,
        type=int,
        metavar="YEAR",
        help="CMS payment year whose models, blend and normalisation apply (2024 to 2027)",
    )
    score.add_argument(
        "--output", required=True, metavar="DIR", help="the run's own directory; new or empty"
    )
    score.add_argument(
        "--format",
        choices=["csv", "parquet", "jsonl"],
        default="csv",
        help="format of the members and diagnoses files (default csv)",
    )
    score.add_argument(
        "--include-ineligible",
        action="store_true",
        help="also score diagnoses from ineligible encounters (for analysis, not for payment)",
    )
    score.add_argument(
        "--num-shards", type=int, default=4, help="Parquet files per table (1 to 4096; default 4)"
    )
    score.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output directory once the new run succeeds",
    )
    add_beam_flag_option(score)


def run_hcc_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline.hcc_job import HccRequest, run_hcc
    from pipeline.options import check_beam_flags

    check_beam_flags(beam_args, allow_unknown=args.allow_unknown_beam_flags)
    if not 1 <= args.num_shards <= 4096:
        raise CliError("--num-shards must be between 1 and 4096")
    summary = run_hcc(
        HccRequest(
            members=args.members,
            diagnoses=args.diagnoses,
            payment_year=args.payment_year,
            output=args.output,
            fmt=args.format,
            include_ineligible=args.include_ineligible,
            num_shards=args.num_shards,
            overwrite=args.overwrite,
            beam_args=beam_args,
        )
    )
    print(
        f"hcc run {summary.run_id}: scored {summary.members_scored} of {summary.members_read} "
        f"members; {summary.diagnoses_eligible} of {summary.diagnoses_read} diagnoses eligible; "
        f"quarantined {summary.quarantined}; outputs in {summary.output}"
    )
    return 0
