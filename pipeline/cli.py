"""The ``deidcode`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Sequence

from pipeline import __version__
from pipeline.eval_cli import add_eval_parser, run_eval_command
from pipeline.signals import Terminated, received, terminate_on_signals

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


class CliError(Exception):
    """A user-facing error: printed as one line, with no traceback."""


def user_errors() -> tuple[type[BaseException], ...]:
    from onnx_models.registry import ModelRegistryError
    from pipeline.audit_writer import AuditDatabaseError
    from pipeline.eval_report import EvalError
    from pipeline.keys import KeyConfigError
    from pipeline.lifecycle import OutputDirError
    from pipeline.options import UnknownBeamFlagError
    from schemas.config import ConfigError
    from transforms.detection.base import DetectorConfigError
    from transforms.detection.ner.engine import NerConfigError
    from transforms.evaluation.gold_formats import GoldFormatError
    from transforms.hcc.tables import HccTableError
    from transforms.io.readers import InputError
    from transforms.redaction.operator import OperatorConfigError

    return (
        CliError,
        UnknownBeamFlagError,
        AuditDatabaseError,
        EvalError,
        GoldFormatError,
        HccTableError,
        ModelRegistryError,
        NerConfigError,
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
        "(default: audit.config db_url, else DIR.audit.sqlite beside the output)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output directory once the new run succeeds",
    )
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
    _add_beam_flag_option(run)
    _add_models_parser(commands)
    add_eval_parser(commands)
    _add_hcc_parser(commands)
    return parser


def _add_hcc_parser(commands: argparse._SubParsersAction) -> None:
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
    _add_beam_flag_option(score)


def _add_beam_flag_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--allow-unknown-beam-flags",
        action="store_true",
        help="pass flags that neither deidcode nor Apache Beam declares on to Beam "
        "(by default they are an error, so that a typo such as --runer=... cannot run locally)",
    )


def _hcc(args: argparse.Namespace, beam_args: list[str]) -> int:
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


def _add_models_parser(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser(
        "models",
        help="list, verify and export ONNX models in the registry",
        description="Manage the ONNX token-classification models in onnx_models/.",
    )
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the registered models with their versions and variants")
    verify = actions.add_parser(
        "verify", help="check every file of a model against its manifest's sha256"
    )
    verify.add_argument("model", help="registry name or model folder")
    export = actions.add_parser(
        "export",
        help="export a Hugging Face token-classification checkpoint to ONNX (export extra)",
        description=(
            "Export a Hugging Face token-classification checkpoint (a local folder, or a hub "
            "id where there is network) through optimum's ONNX exporter into the registry, "
            "with an int8 (CPU, dynamic quantization) and an fp16 (GPU) variant. Needs "
            "pip install 'deidcode[export]'."
        ),
    )
    export.add_argument("source", help="checkpoint folder or hub id")
    export.add_argument("--name", required=True, help="registry name of the exported model")
    export.add_argument("--int8", action="store_true", help="also write the int8 CPU variant")
    export.add_argument("--fp16", action="store_true", help="also write the fp16 GPU variant")
    export.add_argument("--version", default="1", help="model version recorded in the manifest")
    export.add_argument("--license", default="unknown", help="licence recorded in the manifest")
    export.add_argument("--max-length", type=int, help="window length in tokens (default: model's)")
    export.add_argument("--stride", type=int, help="window overlap in tokens (default: 1/4)")
    export.add_argument(
        "--label-map",
        metavar="FILE.json",
        help="JSON object mapping model labels to deidcode subtypes",
    )
    export.add_argument("--registry", metavar="DIR", help="registry folder (default: onnx_models/)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing model folder")


def _models(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from onnx_models.registry import list_models, load_bundle

    if args.models_command == "list":
        for name in list_models():
            manifest = load_bundle(name, verify=False).manifest
            print(f"{name}\t{manifest.version}\t{','.join(sorted(manifest.variants))}")
        return 0
    if args.models_command == "verify":
        bundle = load_bundle(args.model, verify=True)
        print(f"{bundle.manifest.name}: {len(bundle.manifest.files)} files match their sha256")
        return 0
    try:
        from onnx_models.export import export_model
    except ImportError as exc:
        raise CliError(
            f"models export needs the export extra: pip install 'deidcode[export]' ({exc.name})"
        ) from None
    label_map = None
    if args.label_map:
        label_map = json.loads(Path(args.label_map).read_text(encoding="utf-8"))
    kwargs = {"registry_dir": Path(args.registry)} if args.registry else {}
    manifest = export_model(
        args.source,
        args.name,
        int8=args.int8,
        fp16=args.fp16,
        version=args.version,
        license=args.license,
        label_map=label_map,
        max_length=args.max_length,
        stride=args.stride,
        overwrite=args.overwrite,
        **kwargs,
    )
    print(f"exported {manifest.name} {manifest.version}: {', '.join(sorted(manifest.variants))}")
    return 0


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
    from pipeline.options import check_beam_flags

    if args.min_records < 0:
        raise CliError("--min-records must be 0 or more")
    if args.max_quarantine_rate is not None and not 0.0 <= args.max_quarantine_rate <= 1.0:
        raise CliError("--max-quarantine-rate must be a share between 0 and 1, e.g. 0.05")
    check_beam_flags(beam_args, allow_unknown=args.allow_unknown_beam_flags)
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
            min_records=args.min_records,
            max_quarantine_rate=args.max_quarantine_rate,
        )
    )
    print(
        f"run {summary.run_id}: read {summary.records_read}, wrote {summary.notes_written} notes, "
        f"quarantined {summary.records_quarantined}; outputs in {summary.output}"
    )
    return 0


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
    if args.command not in ("run", "hcc") and extra:  # only pipelines pass flags on to Beam
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _configure_logging(args.log_level)
    # Imported after logging is set up: it loads Beam, whose import logs warnings.
    from pipeline.lifecycle import RunThresholdError

    try:
        with terminate_on_signals():
            if args.command == "run":
                return _run(args, extra)
            if args.command == "models":
                return _models(args)
            if args.command == "eval":
                return run_eval_command(args)
            if args.command == "hcc":
                return _hcc(args, extra)
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
