"""``deidcode release``: copy what may leave the hospital out of a finished run.

A run directory is internal: ``phi_spans/`` gives the exact position and length
of every original value, ``audit/`` and ``quarantine/`` name source files and
records, and the run manifest describes the inputs. A release holds only the
releasable tables, without the columns that point into the original text, and a
release manifest without input digests or original offsets. The
re-identification report is written *beside* the release, not in it: it lists
the patients an adversary could single out, which is for the team deciding on
suppression, not for the recipients.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from onnx_models.registry import ModelRegistryError, load_bundle
from pipeline import __version__
from pipeline.eval_report import write_owner_only
from pipeline.manifest import (
    describe_outputs,
    finished_run_manifest,
    read_parquet_file,
    table_files,
    write_manifest,
)
from pipeline.release_html import render_release_report
from schemas.config import ReleaseConfig
from transforms.core.keyed import derive_key, key_fingerprint, pseudonymize
from transforms.evaluation.release_risk import (
    KAnonymity,
    MissedPhi,
    expected_missed_tokens,
    k_anonymity,
)
from transforms.io import files

# Releasable tables and the columns withheld from each: offsets into the original
# text would give away where PHI was and how long it was. "column.field" withholds
# a field of a list of structs (each code's evidence spans).
RELEASABLE_TABLES: dict[str, tuple[str, ...]] = {
    "notes": (),
    "entities": ("start", "end"),
    "codes": ("evidence.start", "evidence.end"),
}
# Every releasable table's note_id is the hospital's own record number: an
# adversary holding a note could find it. The release carries a keyed pseudonym.
PSEUDONYMIZED_COLUMN = "note_id"
NOTE_ID_PURPOSE = "release_note_id"
INTERNAL_OUTPUTS = ("phi_spans", "audit", "quarantine", "manifest.json")
# Column policies whose released values are quasi-identifiers by default.
QUASI_IDENTIFIER_POLICIES = ("keep", "generalize")
# The model card figure the missed-PHI estimate uses: token recall on ASQ-PHI dev,
# the closest to real notes that the card reports for every type.
RECALL_SOURCE = ("asqphi", "token")


class ReleaseError(ValueError):
    """The run cannot be released as asked; the message names the run, file or column."""


@dataclass(frozen=True)
class ReleaseSummary:
    release_dir: str
    report: str
    tables: dict[str, int]
    k_anonymity: KAnonymity
    missed: list[MissedPhi]


def _check_target(run_dir: str, target: str) -> None:
    if files.is_remote(target):
        if files.list_files(target):
            raise ReleaseError(f"release directory {target} exists and is not empty")
        inside = (target.rstrip("/") + "/").startswith(run_dir.rstrip("/") + "/")
    else:
        local = Path(target)
        if local.exists() and (not local.is_dir() or any(local.iterdir())):
            raise ReleaseError(f"release directory {target} exists and is not empty")
        inside = not files.is_remote(run_dir) and local.resolve().is_relative_to(
            Path(run_dir).resolve()
        )
    if inside:
        raise ReleaseError(f"release directory {target} is inside the run {run_dir}")


def _withhold(table: pa.Table, withheld: tuple[str, ...]) -> pa.Table:
    table = table.select([name for name in table.schema.names if name not in withheld])
    nested: dict[str, set[str]] = {}
    for name in withheld:
        if "." in name:
            column, field = name.split(".", 1)
            nested.setdefault(column, set()).add(field)
    for column, fields in nested.items():
        position = table.schema.get_field_index(column)
        if position < 0:
            continue
        lists = table.column(column).combine_chunks()
        structs = lists.values  # the whole child array, as lists.offsets index it
        kept = [f for f in structs.type if f.name not in fields]
        stripped = pa.StructArray.from_arrays(
            [structs.field(f.name) for f in kept], fields=kept, mask=structs.is_null()
        )
        rebuilt = pa.ListArray.from_arrays(lists.offsets, stripped, mask=lists.is_null())
        table = table.set_column(
            position, pa.field(column, rebuilt.type, table.schema.field(column).nullable), rebuilt
        )
    return table


def _copy_table(source: str, target: str, withheld: tuple[str, ...], note_key: bytes) -> int:
    """Copy a table without ``withheld`` columns, with pseudonymous note ids, each file
    re-sorted by them (the run's order would give the original ids' order)."""
    rows = 0
    files.makedirs(target)
    for path in table_files(source):
        table = _withhold(read_parquet_file(path), withheld)
        position = table.schema.get_field_index(PSEUDONYMIZED_COLUMN)
        pseudonyms = pa.array(
            [pseudonymize(note_key, v) for v in table.column(position).to_pylist()],
            type=pa.string(),
        )
        table = table.set_column(position, table.schema.field(position), pseudonyms)
        table = table.sort_by([(name, "ascending") for name in _sort_columns(table)])
        files.write_file(
            files.join(target, files.basename(path)),
            lambda out, t=table: pq.write_table(t, out, compression="zstd"),
        )
        rows += table.num_rows
    return rows


def _sort_columns(table: pa.Table) -> list[str]:
    preferred = [PSEUDONYMIZED_COLUMN, "start_deid", "end_deid", "label", "entity_id"]
    return [name for name in preferred if name in table.schema.names]


def check_release_key(master_key: bytes, manifest: dict[str, Any], run_dir: str) -> bytes:
    """The release's note-id key, once the key is shown to be the run's."""
    if key_fingerprint(master_key) != manifest.get("key_fingerprint"):
        raise ReleaseError(
            f"the key given is not the one run {run_dir} used (its fingerprint differs from "
            "the run manifest's key_fingerprint)"
        )
    return derive_key(master_key, NOTE_ID_PURPOSE)


def quasi_identifier_columns(manifest: dict[str, Any], config: ReleaseConfig) -> tuple[str, ...]:
    columns = (manifest.get("redaction") or {}).get("columns", {})
    policies = {c: p for c, p in columns.items() if p != "drop"}  # the released columns
    if config.quasi_identifiers is not None:
        unknown = [c for c in config.quasi_identifiers if c not in policies]
        if unknown:
            raise ReleaseError(
                f"release.quasi_identifiers names {unknown}, which the run did not release "
                f"(released columns: {sorted(policies) or 'none'})"
            )
        return tuple(config.quasi_identifiers)
    return tuple(sorted(c for c, p in policies.items() if p in QUASI_IDENTIFIER_POLICIES))


def release_k_anonymity(notes_dir: str, columns: tuple[str, ...], k: int) -> KAnonymity:
    records = []
    for path in table_files(notes_dir):
        table = read_parquet_file(path, ["patient_id", *columns]).to_pylist()
        records += [(row["patient_id"], tuple(row[c] for c in columns)) for row in table]
    return k_anonymity(records, columns, k=k)


def _card_recall(manifest: dict[str, Any]) -> tuple[dict[str, float], str | None]:
    """Token recall per PHI type from the run's PHI model card; the PHI model is the
    first model that is not the entity step's."""
    entity_model = (manifest.get("entity_step") or {}).get("model")
    for model in manifest.get("models", []):
        if model["name"] == entity_model:
            continue
        try:
            evaluation = load_bundle(model["name"], verify=False).manifest.evaluation or {}
        except ModelRegistryError:
            return {}, None
        figures = evaluation.get(RECALL_SOURCE[0], {}).get(RECALL_SOURCE[1], {})
        recall = {t: f["recall"] for t, f in figures.items() if f.get("support")}
        return recall, f"{model['name']} {model['version']}, ASQ-PHI dev token recall"
    return {}, None


def _detected_tokens(phi_spans_dir: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for path in table_files(phi_spans_dir):
        table = read_parquet_file(path, ["phi_type", "n_tokens"]).to_pylist()
        for row in table:
            counts[row["phi_type"]] += row["n_tokens"]
    return dict(counts)


def make_release(
    run_dir: str,
    to: str,
    *,
    config: ReleaseConfig,
    master_key: bytes,
    report: str | None = None,
) -> ReleaseSummary:
    """Write the release of ``run_dir`` to ``to`` and its report beside it, local
    paths or object storage alike. ``master_key`` is the run's key: it
    pseudonymises the note ids."""
    source = files.absolute(run_dir).rstrip("/")
    target = files.absolute(to).rstrip("/")
    manifest = finished_run_manifest(
        source, ReleaseError, unfinished="only a finished, successful run can be released"
    )
    note_key = check_release_key(master_key, manifest, source)
    _check_target(source, target)
    report_path = report or f"{target}.release_report.html"
    columns = quasi_identifier_columns(manifest, config)

    name = files.basename(target)
    staging = files.join(files.dirname(target), f".{name}.staging-{uuid.uuid4().hex[:8]}")
    files.makedirs(staging, mode=0o750)
    try:
        tables = {
            table: _copy_table(files.join(source, table), files.join(staging, table), withheld,
                               note_key)
            for table, withheld in RELEASABLE_TABLES.items()
            if table_files(files.join(source, table))
        }  # fmt: skip
        anonymity = release_k_anonymity(files.join(staging, "notes"), columns, config.k)
        recall, recall_source = _card_recall(manifest)
        missed = expected_missed_tokens(
            _detected_tokens(files.join(source, "phi_spans")), recall, notes=tables.get("notes", 0)
        )
        release_manifest = {
            "format": "deidcode-release/1",
            "deidcode_version": __version__,
            "source_run_id": manifest.get("run_id"),
            "source_finished_at": manifest.get("finished_at"),
            "tables": describe_outputs(str(staging), tuple(tables)),
            "withheld_columns": {t: list(c) for t, c in RELEASABLE_TABLES.items() if t in tables},
            "pseudonymized_columns": {t: [PSEUDONYMIZED_COLUMN] for t in tables},
            "columns": {t: _columns(files.join(staging, t)) for t in tables},
            "redaction": manifest.get("redaction"),
            "k_anonymity": {
                "quasi_identifiers": list(columns),
                "k": config.k,
                "smallest_group": anonymity.smallest_group,
                "patients_below_k": len(anonymity.patients_below_k),
            },
        }
        write_manifest(files.join(staging, "release_manifest.json"), release_manifest)
        page = render_release_report(
            manifest=release_manifest,
            anonymity=anonymity,
            missed=missed,
            recall_source=recall_source,
        )
        if files.is_remote(report_path):
            # A bucket's access policy is the report's; locally it is owner-only.
            files.write_bytes(report_path, page.encode("utf-8"))
        else:
            write_owner_only(Path(report_path), [page])
        if not files.is_remote(target) and os.path.isdir(target):
            os.rmdir(target)  # checked empty above
        files.move_tree(staging, target)
    except BaseException:
        files.delete_tree(staging)
        raise
    return ReleaseSummary(target, report_path, tables, anonymity, missed)


def _columns(directory: str) -> list[str]:
    paths = table_files(directory)
    if not paths:
        raise ReleaseError(f"table {files.basename(directory)} has no Parquet files")
    with files.open_read(paths[0]) as handle:
        return pq.read_schema(handle).names
