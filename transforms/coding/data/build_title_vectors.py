"""Build ``code_title_vectors.npz``: every billable code's title, embedded.

A development script, run after the code set or the bundled sentence encoder
changes (about ten minutes on two cores)::

    python -m transforms.coding.data.build_title_vectors

It embeds each title of ``icd10cm_terms.jsonl.gz`` with ``sentence_minilm``
(the file the vectors record by sha256), writes the vectors reproducibly and
pins their sha256 in ``provenance.json``.
"""

from __future__ import annotations

from transforms.coding.codeset import bundled_code_set, pin_data_file
from transforms.coding.dense import TitleVectors, bundled_encoder, title_vectors_path


def main() -> int:
    encoder = bundled_encoder()
    path = title_vectors_path()
    TitleVectors.from_encoder(bundled_code_set(), encoder).save(path)
    described = encoder.describe()
    digest = pin_data_file(
        path,
        f"every billable code's title embedded by {described['name']} {described['version']} "
        f"(int8 file sha256 {described['sha256']}), int8 rows with per-row scales, "
        "built by build_title_vectors.py",
    )
    print(f"wrote {path}, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
