"""Benchmark the ONNX NER engine alone and the whole pipeline, fp32 against int8.

    python bench/bench_ner.py --model deid_phi_minilm --notes 300 --out bench/results.json

Generates a corpus with a realistic note-length distribution (50 to 3,000
words, log-normal, a few notes over 2,000 tokens), then measures in separate
child processes, all in this one run so the ratios compare like with like:

(a) model only: tokenization, windowing, batching, onnxruntime, decoding;
(b) the whole pipeline: ``deidcode run`` from the input file to ``_SUCCESS``,
    with the pattern detector and the model detector.

Each as tokens/s, notes/s, padding ratio and peak RSS. Needs the train extra
(Faker) to generate the corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_corpus(path: Path, n_notes: int, seed: int) -> None:
    from onnx_models.recipes.phi_corpus import CorpusConfig, generate

    rng = random.Random(seed)
    pool = [r["text"] for r in generate(CorpusConfig("test", 3000, seed))]
    with path.open("w", encoding="utf-8") as handle:
        for index in range(n_notes):
            target = int(min(3000, max(50, rng.lognormvariate(5.9, 0.8))))
            if index % 40 == 0:
                target = rng.randint(1800, 3000)  # a few long notes, > 2,000 tokens
            words: list[str] = []
            while len(words) < target:
                words.extend(rng.choice(pool).split(" "))
            text = " ".join(words[:target])
            handle.write(
                json.dumps(
                    {"note_id": f"b{index:05d}", "patient_id": f"p{index % 97}", "text": text}
                )
                + "\n"
            )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_model_only(
    corpus: Path,
    model: str,
    variant: str,
    threads: int,
    notes_per_batch: int,
    batched: bool,
    device: str,
):
    from onnx_models.registry import load_bundle
    from transforms.detection.ner.engine import EngineStats, NerSettings, OnnxNerModel

    texts = [json.loads(line)["text"] for line in corpus.open()]
    engine = OnnxNerModel(
        load_bundle(model),
        NerSettings(
            model=model, variant=variant, device=device, intra_op_num_threads=threads, batch_size=32
        ),
    )
    engine.predict(texts[:4])  # warm-up: session initialisation, first allocations
    engine.stats = EngineStats()
    started = time.perf_counter()
    for begin in range(0, len(texts), notes_per_batch):
        engine.predict(texts[begin : begin + notes_per_batch])
    elapsed = time.perf_counter() - started
    tokens = engine.stats.real_tokens
    return {
        "seconds": elapsed,
        "tokens": tokens,
        "notes": len(texts),
        "padding_ratio": engine.stats.padding_ratio,
        "peak_rss_mb": _peak_rss_mb(),
    }


def child_pipeline(
    corpus: Path, model: str, variant: str, threads: int, tokens: int, batched: bool, device: str
):
    os.environ.setdefault("DEIDCODE_KEY", "bench-key-" + "0" * 40)
    from pipeline.cli import main

    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.yaml"
        config.write_text(
            "detection:\n  detectors:\n    - name: presidio_patterns\n    - name: onnx_ner\n"
            f"      options: {{model: {model}, variant: {variant}, device: {device}, "
            f"intra_op_num_threads: {threads}, batch_size: 32, "
            f"deterministic: {str(not batched).lower()}}}\n"
            "output:\n  num_shards: 2\n"
        )
        out = Path(scratch) / "out"
        started = time.perf_counter()
        code = main(
            [
                "--log-level",
                "WARNING",
                "run",
                "--input",
                str(corpus),
                "--format",
                "jsonl",
                "--output",
                str(out),
                "--config",
                str(config),
            ]
        )
        elapsed = time.perf_counter() - started
        assert code == 0 and (out / "_SUCCESS").exists()
        notes = json.loads((out / "manifest.json").read_text())["counts"]["notes_written"]
    return {
        "seconds": elapsed,
        "tokens": tokens,
        "notes": notes,
        "padding_ratio": None,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run_child(kind: str, **kwargs) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--child-args", json.dumps(kwargs)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> str:
    import onnxruntime

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"onnxruntime {onnxruntime.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="deid_phi_minilm")
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--notes-per-batch", type=int, default=64)
    parser.add_argument(
        "--variants",
        default="fp32,int8,int8:batched",
        help="variants to run; ':batched' batches windows (not deterministic)",
    )
    parser.add_argument("--out", default="bench/results.json")
    parser.add_argument("--child")
    parser.add_argument("--child-args")
    args = parser.parse_args()
    if args.child:
        kwargs = json.loads(args.child_args)
        kwargs["corpus"] = Path(kwargs["corpus"])
        function = child_model_only if args.child == "model" else child_pipeline
        print(json.dumps(function(**kwargs)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "corpus.jsonl"
        make_corpus(corpus, args.notes, args.seed)
        rows = []
        for spec in args.variants.split(","):
            variant, _, mode = spec.partition(":")
            batched = mode == "batched"
            model_only = run_child(
                "model",
                corpus=str(corpus),
                model=args.model,
                variant=variant,
                threads=args.threads,
                notes_per_batch=args.notes_per_batch,
                batched=batched,
                device=args.device,
            )
            whole = run_child(
                "pipeline",
                corpus=str(corpus),
                model=args.model,
                variant=variant,
                threads=args.threads,
                tokens=model_only["tokens"],
                batched=batched,
                device=args.device,
            )
            for stage, result in (("model only", model_only), ("whole pipeline", whole)):
                rows.append(
                    {
                        "variant": spec,
                        "stage": stage,
                        "tokens_per_s": round(result["tokens"] / result["seconds"]),
                        "notes_per_s": round(result["notes"] / result["seconds"], 2),
                        "padding_ratio": None
                        if result["padding_ratio"] is None
                        else round(result["padding_ratio"], 4),
                        "peak_rss_mb": round(result["peak_rss_mb"]),
                        "seconds": round(result["seconds"], 2),
                        "tokens": result["tokens"],
                        "notes": result["notes"],
                    }
                )
    report = {
        "machine": machine(),
        "model": args.model,
        "notes": args.notes,
        "threads": args.threads,
        "rows": rows,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print("| variant | stage | tokens/s | notes/s | padding | peak RSS MB | seconds |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        padding = "n/a" if r["padding_ratio"] is None else f"{r['padding_ratio']:.1%}"
        print(
            f"| {r['variant']} | {r['stage']} | {r['tokens_per_s']:,} | {r['notes_per_s']} | "
            f"{padding} | {r['peak_rss_mb']} | {r['seconds']} |"
        )
    by = {(r["variant"], r["stage"]): r for r in rows}
    for variant in args.variants.split(","):
        ratio = (
            by[(variant, "whole pipeline")]["tokens_per_s"]
            / by[(variant, "model only")]["tokens_per_s"]
        )
        print(f"{variant}: whole pipeline / model only = {ratio:.1%}")


if __name__ == "__main__":
    main()
