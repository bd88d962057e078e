"""What the coding step costs: the default job with and without it, in one run.

    PYTHONPATH=. python bench/bench_coding.py --input ../shared/data/aci_bench_notes.jsonl \
        --rounds 2 --out bench/results_coding.json

Runs ``deidcode run`` on the same notes with the default config (entities and
coding on), with the dense coder (``coding.model: icd10cm_coder_dense``) and
with ``coding.enabled: false``,
alternating (A B C A B C …) so that a noisy, shared machine slows all alike,
and reports what each coder adds to the job's time, over the whole command and
over the Beam pipeline stage (issue 14 allows 30%). A separate timing gives
each suggester alone over the entities the default run found.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.bench_guards import (
    COLUMNS,
    alternating_runs,
    bench_arguments,
    note_texts,
    write_result,
)
from transforms.coding.model import DEFAULT_CODER, DENSE_CODER


def suggester_seconds(data: Path, run_dir: Path, model: str) -> dict[str, float]:
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
    coder = CodeSuggester.bundled(CodingSettings(model=model))
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
        "with_dense_coding": COLUMNS + f"coding:\n  model: {DENSE_CODER}\n",
        "without_coding": COLUMNS + "coding:\n  enabled: false\n",
    }
    with alternating_runs(args.input, configs, args.rounds) as runs:
        alone = {
            model: suggester_seconds(args.input, runs.folder / "with_coding", model)
            for model in (DEFAULT_CODER, DENSE_CODER)
        }
    best, best_pipeline = runs.best(), runs.best_pipeline()

    def added(times: dict[str, float], name: str) -> float:
        return round(times[name] / times["without_coding"] - 1, 3)

    def added_by_round(name: str) -> float:
        # Each round's runs follow one another, so a round's ratio sees one machine
        # state; the median of rounds is not moved by one unusually fast run.
        pairs = zip(runs.seconds[name], runs.seconds["without_coding"], strict=True)
        return round(statistics.median(a / b for a, b in pairs) - 1, 3)

    write_result(
        args.out,
        {
            "input": str(args.input),
            "notes": notes,
            "rounds": args.rounds,
            "seconds": runs.seconds,
            "pipeline_seconds": runs.pipeline_seconds,
            "added_share_of_job": added(best, "with_coding"),
            "added_share_of_pipeline": added(best_pipeline, "with_coding"),
            "dense_coder_added_share_of_job": added(best, "with_dense_coding"),
            "added_share_of_job_median_of_rounds": added_by_round("with_coding"),
            "dense_coder_added_share_of_job_median_of_rounds": added_by_round("with_dense_coding"),
            "dense_coder_added_share_of_pipeline": added(best_pipeline, "with_dense_coding"),
            "suggester_alone": {
                model: {
                    **found,
                    "share_of_job_with_coding": round(found["seconds"] / best["with_coding"], 4),
                }
                for model, found in alone.items()
            },
        },
    )


if __name__ == "__main__":
    main()
