"""Differential check of deidcode's CMS-HCC engine against hccinfhir and
risk-adjustment-model on random members; writes a Markdown result table.

    PYTHONPATH=. python bench/hcc_differential.py --members 10000 --out bench/hcc_differential.md

Needs the test extra and ``pip install --ignore-requires-python risk-adjustment-model==0.7.1``.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from tests.transforms.hcc.reference_engines import run_differential

WHAT_CMS_DOES = {
    "reference applies HCC 223's hierarchy after removing it": (
        "Z95.811/Z95.812 (heart assist device, CC 223) count only with heart failure. "
        "deidcode and hccinfhir set CC 223 to 0 before the hierarchies when no HCC 221, 222, "
        "224, 225 or 226 is present, so it cannot drop HCC 227 (cardiomyopathy); "
        "risk-adjustment-model lets HCC 223 drop HCC 227 and then removes HCC 223, so the "
        "member loses both. Our reading of the CMS rule is that an HCC that does not count "
        "cannot drop another; the CMS SAS source was not available offline to confirm the order."
    ),
    "reference skips MCE age edits": (
        "The CMS V28 software applies the Medicare Code Editor age conditions when its "
        "SEDITS switch is on, the default for payment (e.g. G93.7, Reye's syndrome, is "
        "invalid from age 18); hccinfhir and deidcode apply them, risk-adjustment-model "
        "does not. Re-scored without them, deidcode matches it exactly."
    ),
}
NOT_COMPARED = (
    "Not compared with risk-adjustment-model: SNPNE members (it has no such segment) and "
    "V28 in payment year 2025 (it ships V28 tables for 2024, 2026 and 2027 only). Diagnoses "
    "are drawn from codes whose CC is the same in deidcode's mapping and in "
    "risk-adjustment-model's table for the year; hccinfhir is given deidcode's mapping."
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", type=Path, default=Path("bench/hcc_differential.md"))
    args = parser.parse_args()
    lines = [
        "# CMS-HCC differential check",
        "",
        f"`PYTHONPATH=. python bench/hcc_differential.py --members {args.members} "
        f"--seed {args.seed}`: random members in every segment, 5-15 diagnoses drawn to hit "
        "hierarchies and interactions; a match is the same counted HCC set and a raw score "
        "within 1e-3.",
        "",
        "| payment year | reference | model | compared | matches | explained | unexplained |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    explained_cases: Counter[str] = Counter()
    started = time.perf_counter()
    for year in (2025, 2026):
        counts: Counter[tuple[str, str, str]] = Counter()
        for _, _, comparisons in run_differential(args.members, year, args.seed + year):
            for comparison in comparisons:
                if comparison.matches:
                    outcome = "match"
                elif comparison.explained:
                    outcome = "explained"
                    explained_cases[comparison.explained] += 1
                else:
                    outcome = "unexplained"
                counts[(comparison.engine, comparison.model, outcome)] += 1
        for engine, model in sorted({(e, m) for e, m, _ in counts}):
            match, expl, unexpl = (
                counts[(engine, model, o)] for o in ("match", "explained", "unexplained")
            )
            total = match + expl + unexpl
            lines.append(f"| {year} | {engine} | {model} | {total} | {match} | {expl} | {unexpl} |")
    lines += [
        "",
        "Explained differences (risk-adjustment-model departs from the CMS rules "
        "as deidcode and hccinfhir read them):",
        "",
    ]
    lines += [
        f"- {reason}: {n}. {WHAT_CMS_DOES.get(reason, '')}"
        for reason, n in sorted(explained_cases.items())
    ] or ["- none"]
    lines += ["", NOT_COMPARED]
    lines += ["", f"Run time: {time.perf_counter() - started:.0f} s."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
