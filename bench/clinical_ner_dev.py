"""Dev-split figures of a clinical NER model, through the product: `deidcode run`, then
`deidcode eval entities`, on the NCBI-disease and BC5CDR dev sentences.

    PYTHONPATH=. python bench/clinical_ner_dev.py --shared ../shared \
        --model onnx_models/clinical_ner_minilm --out bench/clinical_ner/dev_results.json

The run uses the pattern detector only (the entity step does not depend on
which PHI detectors ran; entity offsets are in the original text) and the
model's default settings. Nothing here chooses a threshold or an epoch: the
recipe chose on its validation slice of the training splits.
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
DEV_SETS = {
    "ncbi_disease": ("ner/ncbi_disease_sent/dev.jsonl", "Disease=PROBLEM"),
    "bc5cdr": ("ner/bc5cdr_sent/dev.jsonl", "Disease=PROBLEM,Chemical=DRUG"),
}


def deidcode(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, check=True, capture_output=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--model", required=True, help="registry name or model folder")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DEIDCODE_KEY", "clinical-ner-dev-" + "0" * 32)
    model = str(Path(args.model).resolve()) if Path(args.model).exists() else args.model
    results = {"model": args.model}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "config.yaml"
        config.write_text(
            (ROOT / "examples" / "eval_entities_config.yaml").read_text()
            + "detection:\n  detectors: [{name: presidio_patterns}]\n"
            + f"entities:\n  model: {model}\n"
        )
        for name, (relative, label_map) in DEV_SETS.items():
            gold = args.shared / "data" / relative
            run_dir, report = folder / f"run_{name}", folder / f"report_{name}"
            started = time.perf_counter()
            deidcode(
                "run", "--input", str(gold), "--format", "jsonl", "--output", str(run_dir),
                "--config", str(config), "--no-progress",
            )  # fmt: skip
            seconds = time.perf_counter() - started
            deidcode(
                "eval", "entities", "--gold", str(gold), "--pred", str(run_dir),
                "--label-map", label_map, "--report-dir", str(report),
            )  # fmt: skip
            metrics = json.loads((report / "metrics.json").read_text())
            for key in ("gold", "pred"):
                metrics.pop(key)
            metrics["run_seconds"] = round(seconds, 1)
            results[name] = metrics
            print(name, json.dumps({k: metrics[k] for k in metrics["labels"]}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
