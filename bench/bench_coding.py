"""What the coding step costs: the default job with and without it, in one run.

    PYTHONPATH=. python bench/bench_coding.py --input ../shared/data/aci_bench_notes.jsonl \
        --rounds 2 --out bench/results_coding.json

Runs ``deidcode run`` on the same notes with the default config (entities and
coding on) and with ``coding.enabled: false``, alternating (A B A B …) so
that a noisy, shared machine slows both alike, and reports what coding adds
to the job's time, over the whole command and over the Beam pipeline stage
(issue 14 allows 30%). A separate timing gives the suggester alone over the
entities the run found.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.bench_guards import (
    COLUMNS,
    alternating_runs,
    bench_arguments,
    note_texts,
    write_result,
)


def suggester_seconds(data: Path, run_dir: Path) -> dict[str, float]:
    """The coder alone over one run's entities (asserted as the run found them) and
    its own coder mentions (asserted here with the bundled rules)."""
    import pyarrow.parquet as pq

    from transforms.coding.suggest import CodeSuggester, CodingSettings
    from transforms.core.entities import Assertion, ClinicalEntity
    from transforms.entities.assertion import default_asserter

    texts = note_texts(data)
    by_note: dict[str, list[ClinicalEntity]] = {}
    for row in pq.read_table(run_dir / "entities").to_pylist():
        flags = ("negated", "historical", "hypothetical", "family", "uncertain")
        by_note.setdefault(row["note_id"], []).append(
            ClinicalEntity(
                row["start"],
                row["end"],
                row["label"],
                row["score"],
                row["model"],
                Assertion(**{flag: row[flag] for flag in flags}),
            )
        )
    coder = CodeSuggester.bundled(CodingSettings())
    asserter = default_asserter()
    started = time.perf_counter()
    codes = 0
    for note_id, entities in by_note.items():
        # As the note step does: coder mentions, asserted by ConText, then the codes.
        codes += len(coder.code_note(texts[note_id], entities, asserter.assert_problems))
    return {"seconds": round(time.perf_counter() - started, 3), "codes_listed": codes}


def main() -> None:
    args = bench_arguments(__doc__, "coding")
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    configs = {
        "with_coding": COLUMNS,
        "without_coding": COLUMNS + "coding:\n  enabled: false\n",
    }
    with alternating_runs(args.input, configs, args.rounds) as runs:
        alone = suggester_seconds(args.input, runs.folder / "with_coding")
    best, best_pipeline = runs.best(), runs.best_pipeline()
    write_result(
        args.out,
        {
            "input": str(args.input),
            "notes": notes,
            "rounds": args.rounds,
            "seconds": runs.seconds,
            "pipeline_seconds": runs.pipeline_seconds,
            "added_share_of_job": round(best["with_coding"] / best["without_coding"] - 1, 3),
            "added_share_of_pipeline": round(
                best_pipeline["with_coding"] / best_pipeline["without_coding"] - 1, 3
            ),
            "suggester_alone": {
                **alone,
                "share_of_job_with_coding": round(alone["seconds"] / best["with_coding"], 4),
            },
        },
    )


if __name__ == "__main__":
    main()
