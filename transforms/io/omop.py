"""OMOP CDM v5.4 ``NOTE`` rows in: from CSV or Parquet files, or from a query
against any SQLAlchemy database, read in partitions.

A NOTE row's columns map onto deidcode's fields (``NOTE_FIELDS``); its other
columns keep their OMOP names, so ``input.column_policies`` can release them
(``note_title: deid_text``, ``language_concept_id: keep``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from transforms.core.records import RawRecord

# deidcode field <- OMOP NOTE column.
NOTE_FIELDS = {
    "note_id": "note_id",
    "patient_id": "person_id",
    "text": "note_text",
    "encounter_id": "visit_occurrence_id",
    # The document's kind (a LOINC-based class concept); note_type_concept_id says
    # where the row came from (EHR, claim), which is not what a source map keys on.
    "note_type": "note_class_concept_id",
}
REQUIRED_COLUMNS = ("note_id", "person_id", "note_text")
DATE_COLUMNS = ("note_date", "note_datetime")


def omop_note_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A NOTE row as deidcode's record fields; unmapped columns pass under their names."""
    fields = {name: row.get(column) for name, column in NOTE_FIELDS.items()}
    date = row.get("note_date")
    if date is None and row.get("note_datetime") is not None:
        datetime = row["note_datetime"]
        date = datetime.date() if hasattr(datetime, "date") else str(datetime)[:10]
    fields["note_date"] = date
    mapped = set(NOTE_FIELDS.values()) | {"note_date"}
    fields.update({column: value for column, value in row.items() if column not in mapped})
    return fields


# The CDM's integer id columns of NOTE that deidcode reads.
INTEGER_COLUMNS = ("note_id", "person_id", "visit_occurrence_id")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        return value.is_integer()
    text = str(value).strip()
    return text.lstrip("-").isdigit() and text.isascii()


def note_record(source: str, number: int, row: dict[str, Any]) -> RawRecord:
    """A NOTE row as a record; a row whose id columns are not integers (the CDM
    types them so) is refused, naming the column, never its value."""
    for column in INTEGER_COLUMNS:
        value = row.get(column)
        if value is not None and value != "" and not _is_integer(value):
            note_id = row.get("note_id")
            return RawRecord(
                source,
                number,
                None,
                "invalid_omop_row",
                f"{column} is not an integer",
                None if note_id in (None, "") else str(note_id)[:64],
            )
    return RawRecord(source, number, omop_note_fields(row))


def mapped_record(record: RawRecord) -> RawRecord:
    """A CSV or Parquet record of a NOTE table with its fields mapped."""
    if record.fields is None:
        return record
    return note_record(record.source_file, record.record_number, record.fields)


# Ties on note_id (duplicates, which validation quarantines) are ordered by the
# other required columns, so record numbers never depend on the database's whim.
_ORDER = "ORDER BY note.note_id, note.person_id, note.note_text"


@dataclass(frozen=True)
class QuerySource:
    """A NOTE query against a database, read as disjoint ``note_id`` ranges.

    ``edges`` split the ids into ranges ``[edges[i], edges[i + 1])``, the last one
    closed, and the first also takes rows without a ``note_id`` (which validation
    then quarantines), so every row is read exactly once. Each range is read in
    order, so a record's number never depends on timing. ``plan`` sets the edges."""

    url: str  # may hold a password: never logged, never written
    query: str
    edges: tuple[int, ...] = ()

    @property
    def partitions(self) -> int:
        return max(1, len(self.edges) - 1)

    @property
    def query_sha256(self) -> str:
        return hashlib.sha256(self.query.encode("utf-8")).hexdigest()

    @property
    def _inner(self) -> str:
        return self.query.strip().rstrip(";").strip()

    def _engine(self):
        import sqlalchemy as sa

        return sa.create_engine(self.url)

    def plan(self, partitions: int) -> QuerySource:
        """The same query split into up to ``partitions`` ranges of equal id width."""
        import sqlalchemy as sa

        sql = f"SELECT MIN(note.note_id), MAX(note.note_id) FROM ({self._inner}) AS note"
        engine = self._engine()
        try:
            with engine.connect() as connection:
                low, high = connection.execute(sa.text(sql)).one()
        finally:
            engine.dispose()
        if partitions <= 1 or not isinstance(low, int) or not isinstance(high, int):
            return QuerySource(self.url, self.query)  # no ids, or not integers: one read
        count = min(partitions, high - low + 1)
        step = (high - low + 1) / count
        edges = [low + int(i * step) for i in range(count)] + [high]
        return QuerySource(self.url, self.query, tuple(edges))

    def partition_names(self, display_url: str) -> list[str]:
        """One source name per range, as quarantine and audit rows name it."""
        return [
            f"{display_url}#query={self.query_sha256[:12]}&partition={index}-of-{self.partitions}"
            for index in range(self.partitions)
        ]

    @staticmethod
    def partition_of(name: str) -> int:
        return int(name.rsplit("&partition=", 1)[1].split("-of-", 1)[0])

    def slice_sql(self, index: int) -> tuple[str, dict[str, int]]:
        if not self.edges:
            return f"SELECT * FROM ({self._inner}) AS note {_ORDER}", {}
        last = index == self.partitions - 1
        where = f"note.note_id >= :low AND note.note_id {'<=' if last else '<'} :high"
        if index == 0:
            where = f"({where}) OR note.note_id IS NULL"
        sql = f"SELECT * FROM ({self._inner}) AS note WHERE {where} {_ORDER}"
        return sql, {"low": self.edges[index], "high": self.edges[index + 1]}

    def columns(self) -> list[str]:
        """The query's column names, without reading a row."""
        import sqlalchemy as sa

        engine = self._engine()
        try:
            with engine.connect() as connection:
                sql = f"SELECT * FROM ({self._inner}) AS note WHERE 1 = 0"
                return list(connection.execute(sa.text(sql)).keys())
        finally:
            engine.dispose()

    def read(self, name: str, *, batch_rows: int = 1000) -> Iterator[RawRecord]:
        import sqlalchemy as sa

        sql, parameters = self.slice_sql(self.partition_of(name))
        engine = self._engine()
        try:
            with engine.connect() as connection:
                result = connection.execution_options(
                    stream_results=True, yield_per=batch_rows
                ).execute(sa.text(sql), parameters)
                columns = list(result.keys())
                for number, row in enumerate(result, start=1):
                    yield _row_record(name, number, dict(zip(columns, row, strict=True)))
        finally:
            engine.dispose()


def _row_record(name: str, number: int, row: dict[str, Any]) -> RawRecord:
    """A database row as a record; a text column in bytes that are not UTF-8
    quarantines this row alone."""
    for column, value in row.items():
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                row[column] = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                note_id = row.get("note_id")
                return RawRecord(
                    name,
                    number,
                    None,
                    "invalid_utf8",
                    f"column {column!r}",
                    None if note_id is None else str(note_id),
                )
    return note_record(name, number, row)
