"""Run one CMS-HCC scoring job: check inputs, run Beam, verify counts, publish.

The same order as a de-identification run: inputs and output directory are
checked before Beam starts; tables are written to a staging directory; every
member and diagnosis read must be accounted for (scored or quarantined; kept
with its eligibility or quarantined); then the manifest, the move, ``_SUCCESS``.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipeline.hcc_from_run import (
    StagedDiagnoses,
    add_note_evidence,
    parse_source_map,
    read_crosswalk,
    stage_diagnoses,
    write_diagnoses_csv,
)
from pipeline.lifecycle import RunVerificationError, StagedRun, committed_counter, staged_run
from pipeline.manifest import count_by, count_rows, read_counts
from pipeline.options import beam_options
from schemas.hcc_tables import HCC_TABLES
from transforms.hcc.beam import (
    DIAGNOSES_READ,
    MEMBERS_READ,
    ScoreMembers,
    parse_diagnosis_batch,
    parse_member_batch,
)
from transforms.hcc.inputs import DIAGNOSIS_COLUMNS, MEMBER_COLUMNS
from transforms.hcc.tables import DATA_DIR, load_payment_year
from transforms.io import files
from transforms.io.readers import (
    InputSelection,
    ReadOptions,
    check_inputs,
    file_digest,
    select_inputs,
)
from transforms.io.reading import ReadAndParse
from transforms.io.sinks import WriteParquetShards, auto_shard_count

LOGGER = logging.getLogger("deidcode")
# The read step's per-file counts, staged for the balance check, never published.
MEMBER_COUNTS_DIR = "read_counts_members"
DIAGNOSIS_COUNTS_DIR = "read_counts_diagnoses"
# --from-run: the run's codes as a diagnosis file, staged for the job, never published.
FROM_RUN_DIR = "from_run"


@dataclass(frozen=True)
class FromRun:
    """Score a de-identification run's suggested codes (``pipeline.hcc_from_run``)."""

    run_dir: str
    crosswalk: str | None = None
    source_map: str | None = None
    default_source: str | None = None


@dataclass
class HccRequest:
    members: str
    diagnoses: str | None
    payment_year: int
    output: str
    from_run: FromRun | None = None
    diagnoses_fmt: str | None = None  # None: the members' format
    fmt: str = "csv"
    include_ineligible: bool = False
    num_shards: int | str = "auto"  # a number, or "auto" (by input size)
    overwrite: bool = False
    beam_args: list[str] = field(default_factory=list)

    @property
    def diagnosis_format(self) -> str:
        return self.diagnoses_fmt or self.fmt


@dataclass(frozen=True)
class HccSummary:
    run_id: str
    output: str
    members_read: int
    members_scored: int
    diagnoses_read: int
    diagnoses_eligible: int
    quarantined: int


def build_hcc_pipeline(
    pipeline: beam.Pipeline,
    request: HccRequest,
    members: list[str],
    diagnoses: list[str],
    out: str,
    *,
    encounter_files: tuple[str, ...] = (),
    source_names: dict[str, str] | None = None,
) -> None:
    year = request.payment_year
    source_names = source_names or {}
    # Rows name each diagnosis file as the user knows it (a scored run's codes table).
    diagnosis_names = tuple(source_names.get(path, path) for path in diagnoses)
    parsed_members = pipeline | "Members" >> ReadAndParse(
        files=members,
        fmt=request.fmt,
        counter=MEMBERS_READ,
        parse_batch=functools.partial(parse_member_batch, payment_year=year),
        options=ReadOptions(fhir_resource="Patient"),
        counts_dir=files.join(out, MEMBER_COUNTS_DIR),
    )
    parsed_diagnoses = pipeline | "Diagnoses" >> ReadAndParse(
        files=diagnoses,
        fmt=request.diagnosis_format,
        counter=DIAGNOSES_READ,
        parse_batch=functools.partial(
            parse_diagnosis_batch, payment_year=year, files=diagnosis_names
        ),
        options=ReadOptions(fhir_resource="Condition", encounter_files=encounter_files),
        counts_dir=files.join(out, DIAGNOSIS_COUNTS_DIR),
        source_names=source_names,
    )
    joined = {
        "members": parsed_members.ok
        | "KeyMembers" >> beam.Map(lambda m: (m[2], m)),  # m[2]: member_id
        "diagnoses": parsed_diagnoses.ok,
        # Quarantined members, so that their diagnoses say why they were not scored.
        "rejected": parsed_members.quarantine
        | "KeyRejected" >> beam.FlatMap(lambda q: [(q["member_id"], 1)] if q["member_id"] else []),
    } | "JoinByMember" >> beam.CoGroupByKey()
    scored = joined | "Score" >> beam.ParDo(
        ScoreMembers(
            payment_year=year,
            diagnosis_files=diagnosis_names,
            include_ineligible=request.include_ineligible,
        )
    ).with_outputs(ScoreMembers.HCC, ScoreMembers.DIAGNOSES, ScoreMembers.QUARANTINE, main="scores")
    quarantined = (
        parsed_members.quarantine,
        parsed_diagnoses.quarantine,
        scored[ScoreMembers.QUARANTINE],
    ) | "AllQuarantine" >> beam.Flatten()

    # Scoring emits rows as tuples in schema order; quarantine rows are dicts.
    risk, hcc, dx = (
        {name: i for i, name in enumerate(HCC_TABLES[t].names)}
        for t in ("risk_scores", "hcc", "diagnoses")
    )
    outputs = {
        "risk_scores": (
            scored.scores,
            lambda r: r[risk["member_id"]],
            lambda r: (r[risk["member_id"]], r[risk["model"]]),
        ),
        "hcc": (
            scored[ScoreMembers.HCC],
            lambda r: r[hcc["member_id"]],
            lambda r: (r[hcc["member_id"]], r[hcc["model"]], int(r[hcc["hcc"]][3:])),
        ),
        "diagnoses": (
            scored[ScoreMembers.DIAGNOSES],
            lambda r: r[dx["member_id"]],
            lambda r: (r[dx["source_file"]], r[dx["record_number"]]),
        ),
        "quarantine": (
            quarantined,
            lambda r: f"{r['source_file']}#{r['record_number']}",
            lambda r: (r["source_file"], r["record_number"]),
        ),
    }
    for table, (rows, shard_key, sort_key) in outputs.items():
        _ = rows | f"Write[{table}]" >> WriteParquetShards(
            directory=files.join(out, table),
            schema=HCC_TABLES[table],
            shard_key=shard_key,
            sort_key=sort_key,
            num_shards=request.num_shards,
            # Scoring emits a list of rows per member; quarantine rows come one by one.
            batched=table != "quarantine",
        )


def run_hcc(request: HccRequest) -> HccSummary:
    year = load_payment_year(request.payment_year)  # an unsupported year stops here
    # Inputs (and a scored run) are read before the pipeline exists, so Beam's
    # filesystems need their settings (an S3 endpoint) from the options now.
    FileSystems.set_options(beam_options(request.beam_args))
    hint = "see the README's CMS-HCC section for the columns"
    members = select_inputs(request.members, request.fmt, fhir_resource="Patient")
    check_inputs(members.files, request.fmt, MEMBER_COLUMNS, hint=hint)
    staged = _stage_from_run(request.from_run) if request.from_run else None
    diagnoses = None
    if staged is None:
        diagnoses = select_inputs(
            request.diagnoses, request.diagnosis_format, fhir_resource="Condition"
        )
        check_inputs(diagnoses.files, request.diagnosis_format, DIAGNOSIS_COLUMNS, hint=hint)
    with staged_run(request.output, overwrite=request.overwrite) as run:
        source_names: dict[str, str] = {}
        if staged is not None:
            # A run's codes are staged with this run, where its workers can read them;
            # rows name them after the run's codes table, so reruns give the same bytes.
            staged_csv = files.join(run.staging, FROM_RUN_DIR, "diagnoses_from_run.csv")
            write_diagnoses_csv(staged_csv, staged)
            request = replace(request, diagnoses=staged_csv, diagnoses_fmt="csv")
            diagnoses = InputSelection([staged_csv], [])
            source_names[staged_csv] = files.join(staged.run_dir, "codes")
        member_files, diagnosis_files = members.files, diagnoses.files
        all_inputs = [*member_files, *diagnosis_files]
        request = replace(request, num_shards=_shard_count(request.num_shards, all_inputs))
        result = run.run_pipeline(
            request.beam_args,
            lambda pipeline: build_hcc_pipeline(
                pipeline,
                request,
                member_files,
                diagnosis_files,
                run.staging,
                encounter_files=tuple(diagnoses.encounter_files),
                source_names=source_names,
            ),
        )
        run.fill_empty_tables(HCC_TABLES, num_shards=request.num_shards, compression_level=3)
        diagnoses_by_reason = count_by(run.table_dir("diagnoses"), "reason")
        counts = _verified_counts(result, run, diagnoses_by_reason)
        manifest = {
            "payment_year": request.payment_year,
            "models": {name: t.blend_weight for name, t in year.models.items()},
            "normalization": {name: t.normalization for name, t in year.models.items()},
            "ma_coding_adjustment": year.ma_coding_adjustment,
            "include_ineligible": request.include_ineligible,
            "model_tables": {
                path.name: file_digest(str(path)).sha256
                for path in sorted(DATA_DIR.iterdir())
                if path.suffix in (".csv", ".json")
            },
            "inputs": {
                "members": [vars(file_digest(p)) for p in member_files],
                "diagnoses": [vars(file_digest(p)) for p in diagnosis_files],
            },
            "skipped_inputs": members.skipped + diagnoses.skipped,
            "counts": counts,
            "quarantine_by_reason": count_by(run.table_dir("quarantine"), "reason"),
            "diagnoses_by_reason": diagnoses_by_reason,
        }
        tables = tuple(HCC_TABLES)
        if staged is not None:
            files.delete_tree(run.table_dir(FROM_RUN_DIR))
            trace = files.join(run.staging, "note_diagnoses", "part-00000.parquet")
            files.write_file(trace, lambda out: pq.write_table(staged.trace, out))
            add_note_evidence(
                run.staging, staged.trace, include_ineligible=request.include_ineligible
            )
            tables += ("note_diagnoses",)
            manifest["from_run"] = {
                "run_id": staged.source_run_id,
                "suggested_codes": staged.trace.num_rows,
                "notes_without_codes": staged.notes_without_codes,
                "crosswalk": request.from_run is not None and bool(request.from_run.crosswalk),
            }
            # The staged file is temporary: note_diagnoses joins on record_number.
            manifest["inputs"]["diagnoses"] = []
        run.publish(manifest, tables)
    LOGGER.info(
        "hcc run %s: %d members scored of %d read; %d diagnoses, %d eligible; %d quarantined",
        run.run_id,
        counts["members_scored"],
        counts["members_read"],
        counts["diagnoses_read"],
        counts["diagnoses_eligible"],
        counts["records_quarantined"],
    )
    return HccSummary(
        run.run_id,
        run.output,
        counts["members_read"],
        counts["members_scored"],
        counts["diagnoses_read"],
        counts["diagnoses_eligible"],
        counts["records_quarantined"],
    )


def _shard_count(num_shards: int | str, inputs: list[str]) -> int:
    """--num-shards as a number: "auto" follows the inputs' size, as output.num_shards does."""
    if num_shards != "auto":
        return int(num_shards)
    return auto_shard_count(sum(files.size(path) for path in inputs), fallback=4)


def _stage_from_run(from_run: FromRun) -> StagedDiagnoses:
    return stage_diagnoses(
        from_run.run_dir,
        source_map=parse_source_map(from_run.source_map),
        default_source=from_run.default_source,
        crosswalk=read_crosswalk(Path(from_run.crosswalk)) if from_run.crosswalk else None,
    )


def _verified_counts(
    result: beam.runners.runner.PipelineResult,
    run: StagedRun,
    diagnoses_by_reason: dict[str, int],
) -> dict:
    # From the files the run wrote, never from runner metrics (a runner may drop them);
    # a counter that is there must agree.
    members_read = sum(read_counts(run.table_dir(MEMBER_COUNTS_DIR)).values())
    diagnoses_read = sum(read_counts(run.table_dir(DIAGNOSIS_COUNTS_DIR)).values())
    for name, written in ((MEMBERS_READ, members_read), (DIAGNOSES_READ, diagnoses_read)):
        counted = committed_counter(result, name)
        if counted and counted != written:
            raise RunVerificationError(
                f"hcc run {run.run_id}: {name} counter {counted} != {written} in the read counts"
            )
    for directory in (MEMBER_COUNTS_DIR, DIAGNOSIS_COUNTS_DIR):
        files.delete_tree(run.table_dir(directory))
    scored_rows = count_rows(run.table_dir("risk_scores"))
    quarantine = count_by(run.table_dir("quarantine"), "record_type")
    members_scored = len(count_by(run.table_dir("risk_scores"), "member_id"))
    diagnoses_kept = sum(diagnoses_by_reason.values())
    # A kept diagnosis is eligible exactly when its reason is "eligible".
    eligible = diagnoses_by_reason.get("eligible", 0)
    if members_read != members_scored + quarantine.get("member", 0):
        raise RunVerificationError(
            f"hcc run {run.run_id}: members read ({members_read}) != scored ({members_scored}) "
            f"+ quarantined ({quarantine.get('member', 0)})"
        )
    if diagnoses_read != diagnoses_kept + quarantine.get("diagnosis", 0):
        raise RunVerificationError(
            f"hcc run {run.run_id}: diagnoses read ({diagnoses_read}) != kept ({diagnoses_kept}) "
            f"+ quarantined ({quarantine.get('diagnosis', 0)})"
        )
    return {
        "members_read": members_read,
        "members_scored": members_scored,
        "members_quarantined": quarantine.get("member", 0),
        "risk_score_rows": scored_rows,
        "diagnoses_read": diagnoses_read,
        "diagnoses_eligible": eligible,
        "diagnoses_ineligible": diagnoses_kept - eligible,
        "diagnoses_quarantined": quarantine.get("diagnosis", 0),
        "records_quarantined": sum(quarantine.values()),
        "hcc_rows": count_rows(run.table_dir("hcc")),
    }
