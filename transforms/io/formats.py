"""The input formats deidcode reads, by name; no readers are imported here, so the
CLI can list them without loading pyarrow or the FHIR models."""

from __future__ import annotations

FORMATS = ("csv", "jsonl", "parquet", "fhir-ndjson", "hl7v2", "omop-note")
# Formats whose readers emit deidcode's field names themselves; input.columns
# applies to the others only.
SELF_MAPPED_FORMATS = ("fhir-ndjson", "hl7v2", "omop-note")
# What a directory holds of each format; anything else in it is skipped and listed.
FORMAT_EXTENSIONS = {
    "csv": (".csv", ".tsv"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
    "parquet": (".parquet", ".pq"),
    "fhir-ndjson": (".ndjson", ".jsonl"),
    "hl7v2": (".hl7", ".hl7v2", ".mllp", ".txt", ".msg"),
    "omop-note": (".csv", ".tsv", ".parquet", ".pq"),
}
# An OMOP NOTE query is read in this many note_id ranges unless --partitions says.
DEFAULT_QUERY_PARTITIONS = 8
