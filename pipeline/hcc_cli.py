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
    diagnoses = score.add_mutually_exclusive_group(required=True)
    diagnoses.add_argument(
        "--diagnoses",
        metavar="PATH_OR_GLOB",
        help="diagnosis file(s): member_id, code, date_of_service, encounter_id, source "
        "(face_to_face|video|audio_only|chart_review)",
    )
    diagnoses.add_argument(
        "--from-run",
        metavar="RUN_DIR",
        help="instead of diagnosis files, a finished deidcode run's suggested codes: each "
        "note's date is the date of service (the run must keep note dates), its encounter "
        "the encounter, its note type the source (--source-map); DIR/note_diagnoses links "
        "each diagnosis to its note, entity and code",
    )
    score.add_argument(
        "--crosswalk",
        metavar="CSV",
        help="with --from-run: patient_id (the run's pseudonym), member_id; from `deidcode "
        "hcc crosswalk`. Without it, members are keyed by the pseudonymous patient_id",
    )
    score.add_argument(
        "--source-map",
        metavar="MAP",
        help="with --from-run: NOTE_TYPE=SOURCE pairs joined by commas, or a JSON object file "
        "(e.g. progress=face_to_face,telehealth=video)",
    )
    score.add_argument(
        "--default-source",
        choices=["face_to_face", "video", "audio_only", "chart_review"],
        help="with --from-run: the source of notes whose type the map lacks; without it such "
        "diagnoses are quarantined as invalid_source",
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
        choices=["csv", "parquet", "jsonl", "fhir-ndjson"],
        default="csv",
        help="format of the members and diagnoses files (default csv); fhir-ndjson reads "
        "Patient (members) and Condition (ICD-10-CM diagnoses, with their Encounter's kind) "
        "from a FHIR Bulk Data export: --members and --diagnoses may name the same directory",
    )
    score.add_argument(
        "--include-ineligible",
        action="store_true",
        help="also score diagnoses from ineligible encounters (for analysis, not for payment)",
    )
    score.add_argument(
        "--num-shards",
        default="auto",
        help="Parquet files per table: 1 to 4096, or auto (default: one per 32 MiB of input, "
        "which bounds the rows a worker sorts)",
    )
    score.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output directory once the new run succeeds",
    )
    add_beam_flag_option(score)
    crosswalk = actions.add_parser(
        "crosswalk",
        help="map plan member ids to a run's pseudonymous patient ids",
        description=(
            "Read PAIRS (CSV: patient_id, member_id, with the hospital's own patient ids) and "
            "write OUT (CSV: patient_id as the run key pseudonymises it, member_id), for "
            "`hcc score --from-run --crosswalk OUT`. The key is read as `deidcode run` reads "
            "it (the config's keys.env_var, or --key-file). OUT is readable by its owner alone."
        ),
        allow_abbrev=False,
    )
    crosswalk.add_argument(
        "--pairs", required=True, metavar="CSV", help="patient_id, member_id (the hospital's ids)"
    )
    crosswalk.add_argument(
        "--out", required=True, metavar="CSV", help="the crosswalk to write (owner-only)"
    )
    crosswalk.add_argument("--config", help="the run's config (for keys.env_var)")
    crosswalk.add_argument("--key-file", help="a file holding the run key")


def run_hcc_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipeline.hcc_job import FromRun, HccRequest, run_hcc
    from pipeline.options import check_beam_flags

    if args.hcc_command == "crosswalk":
        return run_crosswalk_command(args)
    check_beam_flags(beam_args, allow_unknown=args.allow_unknown_beam_flags)
    if args.num_shards != "auto":
        if not args.num_shards.isdigit() or not 1 <= int(args.num_shards) <= 4096:
            raise CliError("--num-shards must be auto or a number from 1 to 4096")
        args.num_shards = int(args.num_shards)
    run_only = [f"--{n.replace('_', '-')}" for n in ("crosswalk", "source_map", "default_source")]
    if not args.from_run and any(getattr(args, f[2:].replace("-", "_")) for f in run_only):
        raise CliError(f"{', '.join(run_only)} go with --from-run")
    summary = run_hcc(
        HccRequest(
            members=args.members,
            diagnoses=args.diagnoses,
            from_run=FromRun(
                args.from_run,
                crosswalk=args.crosswalk,
                source_map=args.source_map,
                default_source=args.default_source,
            )
            if args.from_run
            else None,
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


def run_crosswalk_command(args: argparse.Namespace) -> int:
    from pipeline.hcc_from_run import write_crosswalk
    from pipeline.keys import load_key
    from schemas.config import load_config

    config = load_config(args.config)
    key = load_key(
        key_file=args.key_file, env_var=config.keys.env_var, min_chars=config.keys.min_key_chars
    )
    written = write_crosswalk(args.pairs, args.out, key)
    print(f"crosswalk {args.out}: {written} patients")
    return 0
