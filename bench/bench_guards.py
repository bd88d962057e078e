"""What the precision guards cost: the whole default job with and without them.

    PYTHONPATH=. python bench/bench_guards.py --input ../shared/data/aci_bench_notes.jsonl \
        --rounds 2 --out bench/results_guards.json

Runs ``deidcode run`` on the same notes with the default config and with
``detection.filters: []``, alternating (A B A B …) in this one process so that
a noisy, shared machine slows both alike, and reports notes/s and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_run(data: Path, config: Path, out: Path) -> float:
    command = [
        sys.executable, "-m", "pipeline.cli", "run", "--input", str(data), "--format", "jsonl",
        "--output", str(out), "--config", str(config), "--overwrite",
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def time_alternating(
    data: Path,
    configs: dict[str, Path],
    rounds: int,
    folder: Path,
    pipeline_seconds: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Seconds of each config's run, A B A B … so that a noisy machine slows all alike.

    ``pipeline_seconds``, if given, also gets each run's Beam pipeline stage from
    its manifest: the time spent on notes, without start-up and model checks."""
    seconds: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(rounds):
        for name, config in configs.items():
            seconds[name].append(timed_run(data, config, folder / name))
            if pipeline_seconds is not None:
                manifest = json.loads((folder / name / "manifest.json").read_text())
                stage = manifest["stage_seconds"]["pipeline"]
                pipeline_seconds.setdefault(name, []).append(stage)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="JSONL with note_id and text")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "bench-guards-" + "0" * 32)
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    columns = "input:\n  columns: {note_id: note_id, note_date: null}\n"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        configs = {"with_guards": folder / "guards.yaml", "without_guards": folder / "none.yaml"}
        configs["with_guards"].write_text(columns)
        configs["without_guards"].write_text(columns + "detection:\n  filters: []\n")
        seconds = time_alternating(args.input, configs, args.rounds, folder)
    best = {name: min(times) for name, times in seconds.items()}
    result = {
        "input": str(args.input),
        "notes": notes,
        "rounds": args.rounds,
        "seconds": seconds,
        "notes_per_second": {name: round(notes / t, 2) for name, t in best.items()},
        "throughput_ratio_with_to_without": round(best["without_guards"] / best["with_guards"], 3),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
