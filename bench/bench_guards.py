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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


# The bench inputs are JSONL with note_id and text, and no note dates.
COLUMNS = "input:\n  columns: {note_id: note_id, note_date: null}\n"


def detection_with_phi_model(folder: str | Path) -> str:
    """A config's detection section: the default detectors, the PHI model swapped for
    the registry folder ``folder`` (the default filters stay)."""
    return (
        "detection:\n  detectors:\n    - name: presidio_patterns\n"
        f"    - name: onnx_ner\n      options: {{model: {Path(folder).resolve()}}}\n"
    )


def bench_arguments(
    doc: str, key_name: str, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """--input, --rounds, --out, as every with/without bench takes them (``more`` adds a
    bench's own); sets a bench key."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="JSONL with note_id and text")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    if more is not None:
        more(parser)
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", f"bench-{key_name}-" + "0" * 32)
    return args


@dataclass
class AlternatingRuns:
    folder: Path  # each config's last run is in folder / its name
    seconds: dict[str, list[float]]
    pipeline_seconds: dict[str, list[float]]

    def best(self) -> dict[str, float]:
        return {name: min(times) for name, times in self.seconds.items()}

    def best_pipeline(self) -> dict[str, float]:
        return {name: min(times) for name, times in self.pipeline_seconds.items()}


@contextmanager
def alternating_runs(data: Path, configs: dict[str, str], rounds: int) -> Iterator[AlternatingRuns]:
    """Each named config (YAML text) run ``rounds`` times, alternating, in a temporary
    folder that lasts as long as the context."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = {name: folder / f"{name}.yaml" for name in configs}
        for name, text in configs.items():
            paths[name].write_text(text)
        pipeline: dict[str, list[float]] = {}
        seconds = time_alternating(data, paths, rounds, folder, pipeline)
        yield AlternatingRuns(folder, seconds, pipeline)


def note_texts(data: Path) -> dict[str, str]:
    """Each bench note's text by note_id, as the run read them."""
    texts = {}
    with data.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts[str(record["note_id"])] = record["text"]
    return texts


def write_result(path: Path, result: dict) -> None:
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def main() -> None:
    args = bench_arguments(__doc__, "guards")
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    configs = {
        "with_guards": COLUMNS,
        "without_guards": COLUMNS + "detection:\n  filters: []\n",
    }
    with alternating_runs(args.input, configs, args.rounds) as runs:
        best = runs.best()
    write_result(
        args.out,
        {
            "input": str(args.input),
            "notes": notes,
            "rounds": args.rounds,
            "seconds": runs.seconds,
            "notes_per_second": {name: round(notes / t, 2) for name, t in best.items()},
            "throughput_ratio_with_to_without": round(
                best["without_guards"] / best["with_guards"], 3
            ),
        },
    )


if __name__ == "__main__":
    main()
