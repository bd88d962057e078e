"""JSON Lines: one object a line, each a record, blank lines skipped.

Shared by the ``jsonl`` format and the FHIR NDJSON readers; a line that is not
UTF-8 or not a JSON object is a record of its own with a reason, never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from transforms.core.records import RawRecord
from transforms.io import files
from transforms.io.splits import LineCursor, ReadSplit, whole_file


def read_jsonl(path: str, split: ReadSplit | None = None) -> Iterator[RawRecord]:
    """The records of a file, or of one split of it (``transforms.io.splits``)."""
    split = split or whole_file(path)
    with files.open_read(path) as handle:
        cursor = LineCursor(handle, split, universal=False)
        number = split.records_before
        for raw in cursor.raw_lines():
            line_number = cursor.lines
            if not raw.strip():
                continue
            number += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                yield RawRecord(path, number, None, "invalid_utf8", f"line {line_number}")
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRecord(
                    path, number, None, "malformed_json", f"line {line_number}: {exc.msg}"
                )
                continue
            if not isinstance(value, dict):
                yield RawRecord(
                    path,
                    number,
                    None,
                    "malformed_json",
                    f"line {line_number}: expected an object, found {type(value).__name__}",
                )
                continue
            yield RawRecord(path, number, value)
