"""The window lever of issue 18: the PHI model with longer windows and less overlap.

    PYTHONPATH=. python bench/bench_windows.py --out bench/results_windows.json

The bundled PHI model alone (no patterns), int8, one window per onnxruntime call
as the default job runs it, under several (max_length, stride) settings, on
texts long enough to need several windows:

- MEDDOCAN dev (../shared: 250 Spanish case reports with gold PHI; OTHER left
  out), which the model never trained on;
- 300 generated ICU/nursing notes (``icu_note``, a seed the training recipes do
  not use), whose PHI the generator marks.

Per setting: fed tokens (windows and their two special tokens) against the
texts' tokens, seconds, tokens/s, and word-level recall and precision of the
gold PHI. A lever pays if it cuts seconds without costing recall.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
PHI_MODEL = "deid_phi_minilm"
SETTINGS = [(128, 32), (192, 32), (256, 32), (256, 64), (512, 64)]
_WORD = re.compile(r"\w+")


def meddocan() -> list[tuple[str, list[tuple[int, int]]]]:
    docs = []
    with (SHARED / "meddocan_dev.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            gold = [(s["start"], s["end"]) for s in row["spans"] if s["hipaa"] != "OTHER"]
            docs.append((row["text"], gold))
    return docs


def icu_notes(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    from onnx_models.recipes.phi_carriers import _render, icu_note
    from onnx_models.recipes.phi_values import ValueFactory

    rng, values = random.Random(seed), ValueFactory(seed)
    docs = []
    for _ in range(n):
        parts = [p for _ in range(rng.randint(1, 2)) for p in icu_note(values, rng)]
        record = _render(parts, "normal")
        docs.append((record["text"], [(s["start"], s["end"]) for s in record["spans"]]))
    return docs


def _words(text: str, spans: list[tuple[int, int]]) -> set[int]:
    """Start offsets of the words that lie in any span."""
    return {
        m.start()
        for m in _WORD.finditer(text)
        if any(a < m.end() and m.start() < b for a, b in spans)
    }


def evaluate(
    docs,
    max_length: int | None,
    stride: int | None,
    *,
    model: str = PHI_MODEL,
    notes_per_call: int = 1,
    outputs_into: list | None = None,
    **engine_options,
) -> dict:
    """The model alone over ``docs``: speed and word-level recall/precision.

    ``notes_per_call`` notes go to the engine at once (their windows batched when
    ``deterministic=False`` is among ``engine_options``); ``outputs_into``, if
    given, receives each note's spans."""
    from onnx_models.registry import load_bundle
    from transforms.detection.ner.engine import NerSettings, OnnxNerModel

    engine = OnnxNerModel(
        load_bundle(model),
        NerSettings(model=model, max_length=max_length, stride=stride, **engine_options),
    )
    engine.predict([docs[0][0]])  # warm the session up
    engine.stats.windows = engine.stats.real_tokens = engine.stats.padded_tokens = 0
    real = hit = found = correct = gold_words = 0
    texts = [text for text, _ in docs]
    started = time.perf_counter()
    outputs = [
        spans
        for begin in range(0, len(texts), notes_per_call)
        for spans in engine.predict(texts[begin : begin + notes_per_call])
    ]
    seconds = time.perf_counter() - started
    if outputs_into is not None:
        outputs_into.extend(outputs)
    for (text, gold), spans in zip(docs, outputs, strict=True):
        real += len(engine.tokenize(text).ids)
        predicted = _words(text, [(s.start, s.end) for s in spans])
        truth = _words(text, gold)
        gold_words += len(truth)
        hit += len(truth & predicted)
        found += len(predicted)
        correct += len(predicted & truth)
    return {
        "max_length": max_length,
        "stride": stride,
        "windows": engine.stats.windows,
        "fed_tokens": engine.stats.padded_tokens,
        "text_tokens": real,
        "overlap_or_special_share": round(1 - real / engine.stats.padded_tokens, 4),
        "seconds": round(seconds, 2),
        "fed_tokens_per_s": round(engine.stats.padded_tokens / seconds),
        "text_tokens_per_s": round(real / seconds),
        "word_recall": round(hit / gold_words, 4),
        "word_precision": round(correct / found, 4) if found else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--icu-notes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results_windows.json")
    parser.add_argument(
        "--settings",
        default=",".join(f"{m}/{s}" for m, s in SETTINGS),
        help="comma-separated max_length/stride pairs",
    )
    args = parser.parse_args()
    settings = [tuple(int(n) for n in pair.split("/")) for pair in args.settings.split(",")]
    corpora = {"meddocan_dev": meddocan(), "icu_generated": icu_notes(args.icu_notes, args.seed)}
    command = "PYTHONPATH=. python bench/bench_windows.py " + " ".join(sys.argv[1:])
    report = {"command": command.strip(), "corpora": {}}
    for name, docs in corpora.items():
        rows = []
        for max_length, stride in settings:
            row = evaluate(docs, max_length, stride)
            print(name, json.dumps(row), flush=True)
            rows.append(row)
        report["corpora"][name] = {"documents": len(docs), "settings": rows}
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
