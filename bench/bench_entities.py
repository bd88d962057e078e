"""What the entity step costs: the default job with and without it, in one run.

    PYTHONPATH=. python bench/bench_entities.py --input ../shared/data/aci_bench_notes.jsonl \
        --rounds 2 --out bench/results_entities.json

Runs ``deidcode run`` on the same notes with the default config (entities on)
and with ``entities.enabled: false``, alternating (A B A B …) so that a noisy,
shared machine slows both alike. Reports notes/s over the whole command and
over the Beam pipeline stage, and the throughput ratio with to without; the
issue's floor is 0.70. A separate timing gives assertion's share of the job.
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


def assertion_seconds(data: Path, run_dir: Path) -> dict[str, float]:
    """ConText alone over the entities one run found, timed in this process."""
    import pyarrow.parquet as pq

    from transforms.entities.assertion import default_asserter

    texts = note_texts(data)
    by_note: dict[str, list[tuple[int, int, str]]] = {}
    for row in pq.read_table(run_dir / "entities").to_pylist():
        by_note.setdefault(row["note_id"], []).append((row["start"], row["end"], row["label"]))
    asserter = default_asserter()
    started = time.perf_counter()
    for note_id, entities in by_note.items():
        asserter.assert_entities(texts[note_id], entities)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "entities": sum(len(e) for e in by_note.values()),
    }


def main() -> None:
    args = bench_arguments(
        __doc__,
        "entities",
        lambda parser: parser.add_argument(
            "--model", help="entities.model for the run with entities (default: the bundled model)"
        ),
    )
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    model = f"entities:\n  model: {Path(args.model).resolve()}\n" if args.model else ""
    # Coding needs the entities, so it is off in both runs: this measures entities alone.
    coding_off = "coding:\n  enabled: false\n"
    configs = {
        "with_entities": COLUMNS + model + coding_off,
        "without_entities": COLUMNS + "entities:\n  enabled: false\n" + coding_off,
    }
    with alternating_runs(args.input, configs, args.rounds) as runs:
        assertion = assertion_seconds(args.input, runs.folder / "with_entities")
    best, best_pipeline = runs.best(), runs.best_pipeline()
    write_result(
        args.out,
        {
            "input": str(args.input),
            "model": args.model or "bundled",
            "notes": notes,
            "rounds": args.rounds,
            "seconds": runs.seconds,
            "pipeline_seconds": runs.pipeline_seconds,
            "notes_per_second": {name: round(notes / t, 2) for name, t in best.items()},
            "pipeline_notes_per_second": {
                name: round(notes / t, 2) for name, t in best_pipeline.items()
            },
            "throughput_ratio_with_to_without": round(
                best["without_entities"] / best["with_entities"], 3
            ),
            "pipeline_throughput_ratio_with_to_without": round(
                best_pipeline["without_entities"] / best_pipeline["with_entities"], 3
            ),
            "assertion": {
                **assertion,
                "share_of_job_with_entities": round(
                    assertion["seconds"] / best["with_entities"], 4
                ),
            },
        },
    )


if __name__ == "__main__":
    main()
