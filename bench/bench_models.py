"""Throughput of the whole default job with one PHI model against another.

    PYTHONPATH=. python bench/bench_models.py --input ../shared/data/aci_bench_notes.jsonl \
        --model v1=build/registry/deid_phi_minilm_v1 --model v2=onnx_models/deid_phi_minilm \
        --rounds 2 --out bench/results_models.json

Runs ``deidcode run`` on the same notes with the default config, changing only
the ``onnx_ner`` model, alternating (A B A B …) in this one process so that a
noisy, shared machine slows both alike; reports notes/s and the ratio of the
last model to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bench.bench_guards import COLUMNS, detection_with_phi_model, time_alternating


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", type=Path, required=True, help="JSONL with note_id and text")
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "bench-models-" + "0" * 32)
    notes = sum(1 for _ in args.input.open(encoding="utf-8"))
    models = dict(item.split("=", 1) for item in args.model)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        configs = {}
        for name, model in models.items():
            configs[name] = folder / f"{name}.yaml"
            configs[name].write_text(COLUMNS + detection_with_phi_model(model))
        seconds = time_alternating(args.input, configs, args.rounds, folder)
    best = {name: min(times) for name, times in seconds.items()}
    first, last = list(models)[0], list(models)[-1]
    result = {
        "input": str(args.input),
        "notes": notes,
        "rounds": args.rounds,
        "models": models,
        "seconds": seconds,
        "notes_per_second": {name: round(notes / t, 2) for name, t in best.items()},
        f"throughput_ratio_{last}_to_{first}": round(best[first] / best[last], 3),
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
