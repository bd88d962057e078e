"""Build ``icd10cm_codes.txt.gz``: every ICD-10-CM code, and whether it is billable.

A development script: it reads the code set shipped by simple-icd-10-cm
(MIT licence; the April 2026 ICD-10-CM release, public domain CDC/CMS data)
and writes one ``CODE<TAB>1`` (billable) or ``CODE<TAB>0`` (a category) line
per code, sorted, without dots, gzip-compressed with a fixed timestamp so the
file is byte-identical on every machine::

    pip install simple-icd-10-cm==1.5.0
    python -m transforms.hcc.data.build_icd10cm_codes

Loading this file takes milliseconds; importing simple-icd-10-cm takes seconds.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

OUTPUT = Path(__file__).with_name("icd10cm_codes.txt.gz")


def main() -> int:
    import simple_icd_10_cm as cm

    lines = []
    for code in cm.get_all_codes(with_dots=False):
        # Not is_chapter_or_block: a block named after its one category (B20,
        # R99) answers True there, and the category would be lost.
        if not cm.is_category_or_subcategory(code):
            continue
        lines.append(f"{code}\t{1 if cm.is_leaf(code) else 0}\n")
    payload = "".join(sorted(set(lines))).encode("ascii")
    with (
        OUTPUT.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as out,
    ):
        out.write(payload)
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"wrote {OUTPUT}: {len(lines)} codes, sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
