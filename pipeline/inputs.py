"""What a run reads: files of a format, a FHIR export, or slices of a database query.

``resolve_inputs`` checks the input before Beam starts (files exist, columns are
there, the database answers) and says how the readers must read it; ``describe``
is what the manifest records of it, keyed so that it confirms nothing to someone
holding an export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.config import ColumnMapping, DeidcodeConfig
from transforms.core.keyed import RunKeys, keyed_stream_digest
from transforms.io import files, omop
from transforms.io.formats import DEFAULT_QUERY_PARTITIONS
from transforms.io.readers import (
    SELF_MAPPED_FORMATS,
    InputError,
    ReadOptions,
    check_inputs,
    select_inputs,
)


@dataclass(frozen=True)
class ResolvedInputs:
    """The run's sources (file paths, or one name per query slice) and how to read them."""

    fmt: str
    files: list[str]
    skipped: list[dict[str, str]] = field(default_factory=list)
    options: ReadOptions = ReadOptions()
    display_url: str | None = None  # the database, password masked (query inputs)

    @property
    def is_query(self) -> bool:
        return self.options.query is not None

    def total_bytes(self) -> int | None:
        if self.is_query:
            return None
        return sum(files.size(path) for path in self.files)

    def describe(self, keys: RunKeys, records: dict[str, int]) -> list[dict[str, Any]]:
        """The manifest's ``inputs``: files with keyed digests and the records read from
        each, or the query's identity and the records it gave."""
        query = self.options.query
        if query is not None:
            return [
                {
                    "database": self.display_url,
                    # The query is the operator's text, not patient data.
                    "query_sha256": query.query_sha256,
                    "partitions": query.partitions,
                    "partition_edges": list(query.edges),
                    "records": sum(records.values()),
                }
            ]
        described = [
            {**_described_file(path, keys), "records": records.get(path, 0)} for path in self.files
        ]
        described += [
            {**_described_file(path, keys), "role": f"fhir_{role}"}
            for role, paths in (
                ("binary", self.options.binary_files),
                ("encounter", self.options.encounter_files),
            )
            for path in paths
        ]
        return described


def _described_file(path: str, keys: RunKeys) -> dict[str, Any]:
    with files.open_read(path) as handle:
        # Keyed: an unkeyed digest would let anyone holding an export confirm it was read.
        digest = keyed_stream_digest(keys, handle)
    return {"path": path, "size_bytes": files.size(path), "hmac_sha256": digest}


def resolve_inputs(
    location: str,
    fmt: str,
    config: DeidcodeConfig,
    *,
    input_glob: str | None = None,
    query: str | None = None,
    partitions: int = DEFAULT_QUERY_PARTITIONS,
) -> ResolvedInputs:
    if fmt in SELF_MAPPED_FORMATS and config.input.columns != ColumnMapping():
        raise InputError(
            f"input.columns maps the columns of csv, jsonl and parquet exports; --format {fmt} "
            "maps its own fields (see the README's 'EHR formats'), so remove input.columns"
        )
    if query is not None:
        return _query_inputs(location, fmt, query, partitions)
    if "://" in location and not files.has_filesystem(location):
        raise InputError(
            f"--input {location.split('://')[0]}://... looks like a database URL; read a NOTE "
            "table from it with --format omop-note --query 'SELECT ...'"
        )
    selection = select_inputs(location, fmt, input_glob=input_glob)
    policy_columns = [c for c, p in config.input.column_policies.items() if not p.optional]
    check_inputs(
        selection.files,
        fmt,
        list(config.input.columns.required().values()),
        delimiter=config.input.csv_delimiter,
        also=[
            (
                policy_columns,
                "input.column_policies names it; mark it optional: true if some exports lack it",
            )
        ],
    )
    return ResolvedInputs(
        fmt,
        selection.files,
        selection.skipped,
        ReadOptions(
            delimiter=config.input.csv_delimiter,
            binary_files=tuple(selection.binary_files),
            split_bytes=max(1, int(config.input.split_mb * 2**20)),
        ),
    )


def _query_inputs(url: str, fmt: str, query: str, partitions: int) -> ResolvedInputs:
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    if fmt != "omop-note":
        raise InputError(
            f"--query reads an OMOP NOTE table: it needs --format omop-note, not {fmt}"
        )
    if partitions < 1:
        raise InputError("--partitions must be 1 or more")
    try:
        display = make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        raise InputError(
            "with --query, --input must be a SQLAlchemy database URL such as "
            "postgresql://user@host/db"
        ) from None
    source = omop.QuerySource(url, query)
    try:
        columns = source.columns()
        missing = [c for c in omop.REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise InputError(
                f"the --query on {display} lacks column(s) {', '.join(missing)}; "
                "an OMOP CDM v5.4 NOTE table has them"
            )
        source = source.plan(partitions)
    except sa.exc.SQLAlchemyError as exc:
        # The driver's message may quote the query, never row data; keep its first line.
        first_line = str(exc.orig if getattr(exc, "orig", None) else exc).splitlines()[0][:200]
        raise InputError(f"the --query on {display} failed: {first_line}") from None
    return ResolvedInputs(
        fmt,
        source.partition_names(display),
        options=ReadOptions(query=source),
        display_url=display,
    )
