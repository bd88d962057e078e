"""Read gold PHI annotations: deidcode JSONL, BRAT standoff and i2b2 2014 XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from transforms.evaluation.metrics import GoldRecord, gold_span

# i2b2 2014 TYPE attributes are subtypes; a few differ from deidcode's names.
I2B2_SUBTYPES = {
    "MEDICALRECORD": "MRN",
    "STREET": "STREET",
    "LOCATION-OTHER": "LOCATION_OTHER",
    "ID": "IDNUM",
    "BIOID": "BIOID",
}


T = TypeVar("T")


class GoldFormatError(ValueError):
    """A gold file cannot be read; the message names the file and line."""


def read_gold(path: str | Path) -> list[GoldRecord]:
    path = Path(path)
    if path.is_dir():
        if any(path.glob("*.ann")):
            return list(read_brat(path))
        if any(path.glob("*.xml")):
            return [r for f in sorted(path.glob("*.xml")) for r in read_i2b2(f)]
        raise GoldFormatError(f"gold directory {path} holds no .ann or .xml files")
    if path.suffix == ".xml":
        return list(read_i2b2(path))
    return list(read_jsonl(path))


def parse_jsonl(path: Path, parse: Callable[[Any], T]) -> Iterator[T]:
    """``parse`` of each non-blank line's JSON; a line that is not JSON, or that
    ``parse`` cannot read, raises ``GoldFormatError`` naming the file and line."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield parse(json.loads(line))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise GoldFormatError(f"{path} line {number}: {type(exc).__name__}") from None


def _gold_record(data: Any) -> GoldRecord:
    spans = tuple(
        gold_span(int(s["start"]), int(s["end"]), s["label"], s.get("hipaa"))
        for s in data.get("spans", [])
    )
    return GoldRecord(str(data["id"]), data["text"], spans, bool(data.get("hard_negative", False)))


def read_jsonl(path: Path) -> Iterator[GoldRecord]:
    return parse_jsonl(path, _gold_record)


def read_brat(directory: Path) -> Iterator[GoldRecord]:
    """BRAT standoff: NAME.txt with NAME.ann lines ``T1<TAB>LABEL START END<TAB>TEXT``."""
    for ann in sorted(directory.glob("*.ann")):
        text_path = ann.with_suffix(".txt")
        if not text_path.exists():
            raise GoldFormatError(f"{ann} has no matching {text_path.name}")
        text = text_path.read_text(encoding="utf-8")
        spans = []
        for number, line in enumerate(ann.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.startswith("T"):
                continue
            try:
                _, info, _ = line.split("\t", 2)
                label, offsets = info.split(" ", 1)
                for fragment in offsets.split(";"):
                    start, end = (int(x) for x in fragment.split())
                    spans.append(gold_span(start, end, label))
            except ValueError:
                raise GoldFormatError(f"{ann} line {number}: not a BRAT text-bound line") from None
        yield GoldRecord(ann.stem, text, tuple(spans))


def read_i2b2(path: Path) -> Iterator[GoldRecord]:
    """i2b2 2014 de-identification XML: TEXT plus TAGS with start/end/TYPE attributes."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise GoldFormatError(f"{path}: not well-formed XML ({exc.position})") from None
    text_node = root.find("TEXT")
    if text_node is None or text_node.text is None:
        raise GoldFormatError(f"{path}: no TEXT element")
    spans = []
    tags = root.find("TAGS")
    for tag in tags if tags is not None else []:
        subtype = tag.get("TYPE", tag.tag).upper()
        subtype = I2B2_SUBTYPES.get(subtype, subtype)
        spans.append(gold_span(int(tag.get("start")), int(tag.get("end")), subtype))
    yield GoldRecord(re.sub(r"\.xml$", "", path.name), text_node.text, tuple(spans))
