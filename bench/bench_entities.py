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

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.bench_guards import time_alternating


def assertion_seconds(data: Path, run_dir: Path) -> dict[str, float]:
    """ConText alone over the entities one run found, timed in this process."""
    import pyarrow.parquet as pq

    from transforms.entities.assertion import default_asserter

    texts = {}
    with data.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts[str(record["note_id"])] = record["text"]
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="JSONL with note_id and text")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--model", help="entities.model for the run with entities (default: the bundled model)"
    )
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "bench-entities-" + "0" * 32)
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    columns = "input:\n  columns: {note_id: note_id, note_date: null}\n"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        configs = {"with_entities": folder / "on.yaml", "without_entities": folder / "off.yaml"}
        model = f"entities:\n  model: {Path(args.model).resolve()}\n" if args.model else ""
        # Coding needs the entities, so it is off in both runs: this measures entities alone.
        coding_off = "coding:\n  enabled: false\n"
        configs["with_entities"].write_text(columns + model + coding_off)
        configs["without_entities"].write_text(
            columns + "entities:\n  enabled: false\n" + coding_off
        )
        pipeline: dict[str, list[float]] = {}
        seconds = time_alternating(args.input, configs, args.rounds, folder, pipeline)
        assertion = assertion_seconds(args.input, folder / "with_entities")
    best = {name: min(times) for name, times in seconds.items()}
    best_pipeline = {name: min(times) for name, times in pipeline.items()}
    result = {
        "input": str(args.input),
        "model": args.model or "bundled",
        "notes": notes,
        "rounds": args.rounds,
        "seconds": seconds,
        "pipeline_seconds": pipeline,
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
            "share_of_job_with_entities": round(assertion["seconds"] / best["with_entities"], 4),
        },
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
