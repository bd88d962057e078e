"""Build ``icd10cm_terms.jsonl.gz``: every billable ICD-10-CM code with the terms that name it.

A development script: it reads the tabular list shipped by simple-icd-10-cm
(MIT licence; the April 2026 ICD-10-CM release, public domain CDC/CMS data)
and writes one JSON object per billable code, sorted by code, gzip-compressed
with a fixed timestamp so the file is byte-identical on every machine::

    pip install simple-icd-10-cm==1.5.0
    python -m transforms.coding.data.build_code_terms

Each object holds the code without its dot (``c``), its title (``t``), its
inclusion terms (``i``), the "includes" terms of the code and of every
ancestor up to its category (``n``: "high blood pressure" for I10), and its
parent's code (``p``). The Alphabetic Index is not shipped by any package this
project can install offline, so its synonyms are not here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

OUTPUT = Path(__file__).with_name("icd10cm_terms.jsonl.gz")


def code_record(cm, code: str) -> dict:
    includes: list[str] = []
    node: str | None = code
    while node:
        includes += [term for term in cm.get_includes(node) if term not in includes]
        node = category_parent(cm, node)
    parent = category_parent(cm, code)
    return {
        "c": cm.remove_dot(code),
        "t": cm.get_description(code),
        "i": list(cm.get_inclusion_term(code)),
        "n": includes,
        "p": cm.remove_dot(parent) if parent else "",
    }


def category_parent(cm, code: str) -> str | None:
    """The code's parent category or subcategory; None above a category. A block
    named after its one category (B20, R99) shares its name, so a parent equal
    to the code, or named as a range, is a block."""
    parent = cm.get_parent(code)
    if not parent or parent == code or "-" in parent:
        return None
    return parent


def main() -> int:
    import simple_icd_10_cm as cm

    records = [
        code_record(cm, code)
        for code in dict.fromkeys(cm.get_all_codes(with_dots=True))
        # Not is_chapter_or_block: it answers True for B20, a category named like its block.
        if cm.is_category_or_subcategory(code) and cm.is_leaf(code)
    ]
    records.sort(key=lambda r: r["c"])
    payload = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    with (
        OUTPUT.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out,
    ):
        out.write(payload.encode("utf-8"))
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"wrote {OUTPUT}: {len(records)} billable codes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
