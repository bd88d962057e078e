"""PHI model variants side by side, the model alone: issue 18's quantization and
smaller-model levers.

    PYTHONPATH=. python bench/bench_phi_variants.py \
        --model bundled=onnx_models/deid_phi_minilm \
        --model static=build/registry/static --model fused=build/registry/fused \
        --model student_l3=build/registry/deid_phi_minilm_l3_full \
        --out bench/results_phi_variants.json

On the corpora of ``bench_windows.py`` (MEDDOCAN dev, generated ICU notes),
each model's int8 variant at its manifest's windows, alternated round by round
in this one process so that a noisy machine slows all alike (best round kept):

- one window per onnxruntime call, as the default job runs it: seconds, tokens/s,
  word-level recall and precision of the gold PHI;
- batched, ``--notes-per-call`` notes at a time with ``deterministic: false``:
  seconds, and how many notes' spans differ from the one-window run (at all, and
  in what is redacted: start, end or type), which decides whether a variant may
  batch and stay deterministic.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.bench_windows import REPO, evaluate, icu_notes, meddocan


def compare(docs, folder: str, notes_per_call: int) -> dict:
    """One round of one model: one window per call, then batched."""
    single: list = []
    batched: list = []
    row = evaluate(docs, None, None, model=folder, outputs_into=single)
    many = evaluate(
        docs,
        None,
        None,
        model=folder,
        notes_per_call=notes_per_call,
        outputs_into=batched,
        deterministic=False,
        batch_size=32,
    )
    return {
        **row,
        "batched_seconds": many["seconds"],
        "batched_word_recall": many["word_recall"],
        # Any change at all (a score in the last digit counts), and a change in what
        # is redacted (a span's start, end or type).
        "notes_whose_spans_change_when_batched": sum(
            a != b for a, b in zip(single, batched, strict=True)
        ),
        "notes_whose_redactions_change_when_batched": sum(
            redactions(a) != redactions(b) for a, b in zip(single, batched, strict=True)
        ),
    }


def redactions(spans) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.phi_type) for s in spans]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", required=True, metavar="NAME=FOLDER")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--notes-per-call", type=int, default=16)
    parser.add_argument("--icu-notes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results_phi_variants.json")
    args = parser.parse_args()
    models = dict(item.split("=", 1) for item in args.model)
    corpora = {"meddocan_dev": meddocan(), "icu_generated": icu_notes(args.icu_notes, args.seed)}
    report: dict = {"models": models, "rounds": args.rounds, "corpora": {}}
    for name, docs in corpora.items():
        rows = {}
        # Alternate models within each round: a slow minute slows every model once.
        results: dict[str, list[dict]] = {model: [] for model in models}
        for _ in range(args.rounds):
            for model, folder in models.items():
                results[model].append(compare(docs, folder, args.notes_per_call))
        for model, runs in results.items():
            best = min(runs, key=lambda row: row["seconds"])
            best["rounds_seconds"] = [row["seconds"] for row in runs]
            rows[model] = best
            print(name, model, json.dumps(best), flush=True)
        first = next(iter(models))
        for model in models:
            rows[model]["speed_vs_" + first] = round(
                rows[first]["seconds"] / rows[model]["seconds"], 3
            )
        report["corpora"][name] = {"documents": len(docs), "models": rows}
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
