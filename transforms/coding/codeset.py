"""The bundled ICD-10-CM code set: every billable code with the terms that name it.

Loaded once from ``data/icd10cm_terms.jsonl.gz``, pinned by sha256 in
``data/provenance.json`` (built by ``data/build_code_terms.py``). Only billable
codes are in it, so a category such as E11 can never be suggested.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from transforms.core.hashing import sha256_file

DATA_DIR = Path(__file__).with_name("data")
TERMS_FILE = "icd10cm_terms.jsonl.gz"


class CodeSetError(ValueError):
    """The bundled code set is missing or altered; the message names the file."""


@dataclass(frozen=True)
class CodeEntry:
    code: str  # with its dot, as coders write it: E11.22
    title: str
    inclusion_terms: tuple[str, ...]
    includes: tuple[str, ...]
    parent: str  # the parent code with its dot; "" for a three-character code

    @property
    def terms(self) -> tuple[str, ...]:
        """Every phrase that names the code: its title first."""
        return (self.title, *self.inclusion_terms, *self.includes)


def add_dot(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


@dataclass(frozen=True)
class CodeSet:
    entries: dict[str, CodeEntry]

    def __contains__(self, code: str) -> bool:
        return code in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, code: str) -> CodeEntry | None:
        return self.entries.get(code)


def _checked(path: Path) -> Path:
    pinned = json.loads((DATA_DIR / "provenance.json").read_text(encoding="utf-8"))["files"]
    try:
        digest = sha256_file(path)
    except FileNotFoundError:
        raise CodeSetError(f"the ICD-10-CM code set {path} is missing") from None
    if digest != pinned[path.name]["sha256"]:
        raise CodeSetError(
            f"the ICD-10-CM code set {path} has sha256 {digest}, pinned "
            f"{pinned[path.name]['sha256']}; rebuild it with "
            "python -m transforms.coding.data.build_code_terms"
        )
    return path


@lru_cache(maxsize=1)
def bundled_code_set() -> CodeSet:
    entries = {}
    with gzip.open(_checked(DATA_DIR / TERMS_FILE), "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            code = add_dot(record["c"])
            entries[code] = CodeEntry(
                code=code,
                title=record["t"],
                inclusion_terms=tuple(record["i"]),
                includes=tuple(record["n"]),
                parent=add_dot(record["p"]) if record["p"] else "",
            )
    return CodeSet(entries)
