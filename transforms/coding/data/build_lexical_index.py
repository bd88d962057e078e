"""Build ``lexical_index.npz``: the BM25 index over the bundled code set's terms.

A development script, run after the code set or ``lexical.py`` changes::

    python -m transforms.coding.data.build_lexical_index

It builds ``LexicalIndex.from_code_set`` from ``icd10cm_terms.jsonl.gz``, writes
it byte for byte reproducibly, and pins its sha256 in ``provenance.json``. A
test checks that the shipped index equals a fresh build.
"""

from __future__ import annotations

from transforms.coding.codeset import DATA_DIR, bundled_code_set, pin_data_file
from transforms.coding.lexical import INDEX_FILE, LexicalIndex


def main() -> int:
    path = DATA_DIR / INDEX_FILE
    LexicalIndex.from_code_set(bundled_code_set()).save(path)
    digest = pin_data_file(
        path,
        "the BM25 index (stems, postings, weights) over icd10cm_terms.jsonl.gz, "
        "built by build_lexical_index.py",
    )
    print(f"wrote {path}, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
