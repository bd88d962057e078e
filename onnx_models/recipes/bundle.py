"""Copy a full export's CPU and GPU variants into the bundled registry folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from onnx_models.export import export_model
from onnx_models.registry import REGISTRY_DIR, ModelManifest, read_manifest, write_manifest

BUNDLED_VARIANTS = ("int8", "fp16")


def export_full(
    checkpoint: Path,
    name: str,
    full_dir: Path,
    *,
    version: str,
    label_map: dict[str, str],
    max_length: int,
    stride: int,
) -> ModelManifest:
    """Export ``checkpoint`` as ``full_dir/NAME_full`` with fp32, int8 and fp16."""
    full_dir.mkdir(parents=True, exist_ok=True)
    return export_model(
        str(checkpoint),
        f"{name}_full",
        int8=True,
        fp16=True,
        registry_dir=full_dir,
        version=version,
        license="Apache-2.0",
        label_map=label_map,
        max_length=max_length,
        stride=stride,
        overwrite=True,
    )


def bundle_variants(
    full_dir: Path,
    full: ModelManifest,
    name: str,
    write_card: Any,
    **manifest_updates: Any,
) -> ModelManifest:
    """``onnx_models/NAME`` with the int8 (CPU) and fp16 (GPU) variants of the export in
    ``full_dir`` and its tokenizer; the fp32 stays out, so the repository stays small.

    ``write_card(directory, manifest)`` writes MODEL_CARD.md for both folders; the
    full export gets the same evaluation and card, and keeps its fp32."""
    target = REGISTRY_DIR / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for variant in BUNDLED_VARIANTS:
        shutil.copy(full_dir / full.variants[variant], target / full.variants[variant])
    shutil.copy(full_dir / "tokenizer.json", target / "tokenizer.json")
    data = full.to_dict()
    data.update(
        name=name,
        variants={v: full.variants[v] for v in BUNDLED_VARIANTS},
        files={},
        **manifest_updates,
    )
    manifest = ModelManifest.from_dict(data)
    write_card(target, manifest)
    manifest = write_manifest(target, manifest)
    full_manifest = ModelManifest.from_dict({**full.to_dict(), "evaluation": manifest.evaluation})
    write_card(full_dir, full_manifest)
    write_manifest(full_dir, full_manifest)
    return read_manifest(target)
