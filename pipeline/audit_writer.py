"""Write the run row, per-note audit rows and surrogate ledger entries to the audit database."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from pipeline.failures import DescribedFailure
from schemas.audit_db import current_revision, note_audit, runs, surrogate_ledger, upgrade_schema
from schemas.tables import SURROGATE_LEDGER_SCHEMA
from transforms.io import files

BATCH_ROWS = 5_000


class AuditDatabaseError(ValueError):
    """The audit database cannot be reached or migrated; the message hides any password."""


def safe_url(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


class AuditWriteError(DescribedFailure):
    """Writing to the audit database failed during the run."""


# Driver error codes that mean the database's disk is full: SQLite's, PostgreSQL's.
_DISK_FULL_CODES = {"SQLITE_FULL", "53100"}


def driver_error_code(exc: sa.exc.SQLAlchemyError) -> str:
    """The driver's own error code (``SQLITE_FULL``, a PostgreSQL SQLSTATE), which names
    the failure without quoting statements or parameters."""
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlite_errorname", None) or getattr(original, "pgcode", None)
    return str(code) if code else type(original or exc).__name__


@contextmanager
def _writing(url: str, what: str) -> Iterator[None]:
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        code = driver_error_code(exc)
        hint = ": its disk is full; free space there" if code in _DISK_FULL_CODES else ""
        raise AuditWriteError(
            f"the audit database {safe_url(url)} failed while {what} ({code}){hint}"
        ) from exc


class AuditDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise AuditDatabaseError(
                f"audit database URL {safe_url(url)} cannot be used ({type(exc).__name__}); "
                f"for PostgreSQL install deidcode[postgres]"
            ) from None

    def prepare(self) -> None:
        """Create or upgrade the schema; fails before the pipeline starts."""
        try:
            upgrade_schema(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise AuditDatabaseError(
                f"audit database {safe_url(self.url)} cannot be reached or migrated "
                f"({type(exc).__name__})"
            ) from None

    def is_unborn_sqlite_file(self) -> bool:
        """Whether this is a SQLite file that does not exist yet: connecting would create
        it, so a read-only check must not connect."""
        url = sa.engine.make_url(self.url)
        path = url.database
        return (
            url.get_backend_name() == "sqlite"
            and bool(path)
            and path != ":memory:"
            and (not os.path.exists(path))
        )

    def schema_revision(self) -> str | None:
        """The schema's revision (None: no schema yet), read without creating or
        migrating anything."""
        try:
            return current_revision(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            raise AuditDatabaseError(
                f"audit database {safe_url(self.url)} cannot be reached ({type(exc).__name__})"
            ) from None

    def start_run(self, **values: Any) -> None:
        with _writing(self.url, "recording the run's start"), self.engine.begin() as connection:
            connection.execute(runs.insert().values(status="running", **values))

    def export_surrogate_ledger(self, path: str) -> int:
        """Write the whole surrogate ledger to a Parquet file for the run to read;
        returns the number of entries."""
        columns = list(SURROGATE_LEDGER_SCHEMA.names)
        with (
            _writing(self.url, "reading the surrogate ledger"),
            self.engine.connect() as connection,
        ):
            rows = connection.execute(
                sa.select(*(surrogate_ledger.c[name] for name in columns)).order_by(
                    surrogate_ledger.c.patient_id, surrogate_ledger.c.word_digest
                )
            ).all()
        table = pa.Table.from_pylist(
            [dict(zip(columns, row, strict=True)) for row in rows], schema=SURROGATE_LEDGER_SCHEMA
        )
        files.write_file(path, lambda handle: pq.write_table(table, handle))
        return len(rows)

    def finish_run(
        self,
        run_id: str,
        audit_files: list[str],
        *,
        ledger_files: list[str] | None = None,
        error: str | None = None,
        **values: Any,
    ) -> None:
        """Insert every audit row and the run's new surrogate ledger entries, and mark the
        run succeeded, or failed with ``error`` (a run that finished but missed a
        threshold), in one transaction."""
        status = "succeeded" if error is None else "failed"
        with _writing(self.url, "writing the audit rows"), self.engine.begin() as connection:
            for batch in _batches(audit_files):
                connection.execute(note_audit.insert(), batch)
            for batch in _batches(ledger_files or []):
                # A unique-constraint failure here means another run gave one of these
                # patients' words surrogates at the same time: the transaction rolls back.
                connection.execute(surrogate_ledger.insert(), batch)
            connection.execute(
                runs.update()
                .where(runs.c.run_id == run_id)
                .values(status=status, finished_at=_now(), error=error, **values)
            )

    def fail_run(self, run_id: str, error: str) -> None:
        with _writing(self.url, "recording the failure"), self.engine.begin() as connection:
            connection.execute(
                runs.update()
                .where(runs.c.run_id == run_id)
                .values(status="failed", finished_at=_now(), error=error)
            )

    def abandon_stale_runs(self, output_dir: str, started_before: dt.datetime) -> list[str]:
        """Mark ``running`` rows of ``output_dir`` that started before the cutoff as
        ``abandoned``: their process was killed before it could record an outcome."""
        with _writing(self.url, "marking stale runs"), self.engine.begin() as connection:
            rows = connection.execute(
                sa.select(runs.c.run_id, runs.c.started_at).where(
                    runs.c.status == "running", runs.c.output_dir == output_dir
                )
            ).all()
            # SQLite returns naive datetimes; every row is written in UTC.
            stale = sorted(
                run_id
                for run_id, started in rows
                if (started if started.tzinfo else started.replace(tzinfo=dt.UTC)) < started_before
            )
            if stale:
                connection.execute(
                    runs.update()
                    .where(runs.c.run_id.in_(stale), runs.c.status == "running")
                    .values(status="abandoned", finished_at=_now(), error="abandoned")
                )
        return stale

    def dispose(self) -> None:
        self.engine.dispose()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _batches(paths: list[str]) -> Iterator[list[dict[str, Any]]]:
    for path in paths:
        with files.open_read(path) as handle:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=BATCH_ROWS):
                yield batch.to_pylist()
