"""Build ``lexical_index.npz``: the BM25 index over the bundled code set's terms.

A development script, run after the code set or ``lexical.py`` changes::

    python -m transforms.coding.data.build_lexical_index

It builds ``LexicalIndex.from_code_set`` from ``icd10cm_terms.jsonl.gz``, writes
it byte for byte reproducibly, and pins its sha256 in ``provenance.json``. A
test checks that the shipped index equals a fresh build.
"""

from __future__ import annotations

import json

from transforms.coding.codeset import DATA_DIR, bundled_code_set
from transforms.coding.lexical import INDEX_FILE, LexicalIndex
from transforms.core.hashing import sha256_file


def main() -> int:
    path = DATA_DIR / INDEX_FILE
    LexicalIndex.from_code_set(bundled_code_set()).save(path)
    provenance_path = DATA_DIR / "provenance.json"
    provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
    provenance["files"][INDEX_FILE] = {
        "sha256": sha256_file(path),
        "content": "the BM25 index (stems, postings, weights) over icd10cm_terms.jsonl.gz, "
        "built by build_lexical_index.py",
    }
    provenance_path.write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}, sha256 {provenance['files'][INDEX_FILE]['sha256']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
