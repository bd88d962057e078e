"""The bundled ICD-10-CM code set: every billable code with the terms that name it.

Loaded once from ``data/icd10cm_terms.jsonl.gz``, pinned by sha256 in
``data/provenance.json`` (built by ``data/build_code_terms.py``). Only billable
codes are in it, so a category such as E11 can never be suggested.
"""

from __future__ import annotations

import bisect
import gzip
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

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

    def successor(self, code: str) -> str | None:
        """The billable code an older gold code stands for in this release: itself
        where billable; for a code that has since gained children, its one
        unspecified child (R51 -> R51.9, M54.5 -> M54.50), or, for an injury
        code that lacks its 7th character, the initial encounter (T14.90 ->
        T14.90XA). None where no single child is the plain reading."""
        if code in self.entries:
            return code
        ordered = self._sorted_codes()
        children = []
        # Indexing, not slicing: a slice would copy up to 75,000 codes per call.
        for position in range(bisect.bisect_right(ordered, code), len(ordered)):
            if not ordered[position].startswith(code):
                break
            children.append(ordered[position])
        if not children:
            return None
        # Injuries (S, T) and external causes (V-Y) take a 7th character.
        if code[0] in "STVWXY" and all(len(c.replace(".", "")) == 7 for c in children):
            initial = [c for c in children if c.endswith("A")]
            return initial[0] if len(initial) == 1 else None
        vagueness = {c: self.entries[c].title.lower().count("unspecified") for c in children}
        # The child unspecified on most axes: C50.9 -> C50.919, not C50.911 (right breast).
        best = min(children, key=lambda c: (-vagueness[c], len(c), c))
        return best if vagueness[best] else None

    def defaults_for(self, code: str) -> tuple[str, ...]:
        """The plain codes of ``code``'s category and subcategory (F31.9 for F31.32):
        lexical ties among a category's many titled codes rank its unspecified
        code last, so candidate lists add it."""
        # Asked for every candidate of every mention: each code's answer is kept.
        cache = self.__dict__.setdefault("_defaults_by_code", {})
        if code not in cache:
            cache[code] = self._find_defaults(code)
        return cache[code]

    def _find_defaults(self, code: str) -> tuple[str, ...]:
        prefixes = {code[:3], code[:5]} - {code}
        found = []
        for prefix in sorted(prefixes):
            if prefix not in self.entries:
                default = self._default(prefix)
                if default is not None and default != code:
                    found.append(default)
        return tuple(found)

    def _default(self, prefix: str) -> str | None:
        cache = self.__dict__.setdefault("_defaults", {})
        if prefix not in cache:
            cache[prefix] = self.successor(prefix)
        return cache[prefix]

    def _sorted_codes(self) -> list[str]:
        cached = self.__dict__.get("_sorted")
        if cached is None:
            cached = sorted(self.entries)
            object.__setattr__(self, "_sorted", cached)
        return cached


def verified_data_file(path: Path, what: str, rebuild: str) -> Path:
    """``path`` once its sha256 is the one pinned in ``data/provenance.json``."""
    pinned = json.loads((DATA_DIR / "provenance.json").read_text(encoding="utf-8"))["files"]
    try:
        digest = sha256_file(path)
    except FileNotFoundError:
        raise CodeSetError(f"the {what} {path} is missing") from None
    expected = pinned.get(path.name, {}).get("sha256")
    if digest != expected:
        raise CodeSetError(
            f"the {what} {path} has sha256 {digest}, pinned {expected}; rebuild it with {rebuild}"
        )
    return path


def save_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Numpy arrays in a zip (``np.load`` reads it) whose entries carry a fixed date,
    so the same arrays give the same bytes and a sha256 pin holds."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, buffer.getvalue())


def pin_data_file(path: Path, content: str) -> str:
    """Record ``path``'s sha256 and what it holds in ``data/provenance.json``, for
    ``verified_data_file``; the build scripts call it after writing a file."""
    provenance_path = DATA_DIR / "provenance.json"
    provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
    digest = sha256_file(path)
    provenance["files"][path.name] = {"sha256": digest, "content": content}
    provenance_path.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return digest


def _checked(path: Path) -> Path:
    return verified_data_file(
        path, "ICD-10-CM code set", "python -m transforms.coding.data.build_code_terms"
    )


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
