"""Export a Hugging Face token-classification checkpoint into the registry.

Needs the ``export`` extra (torch, transformers, optimum, optimum-onnx, onnx).
fp32 comes from optimum's ONNX exporter; int8 is onnxruntime dynamic
quantization; fp16 is onnxruntime's transformers float16 conversion with fp32
inputs and outputs, so callers feed the same arrays to every variant.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onnx_models.registry import (
    REGISTRY_DIR,
    ModelManifest,
    ModelRegistryError,
    SpecialTokens,
    write_manifest,
)

OPSET = 17


def infer_label_scheme(labels: list[str]) -> str:
    prefixes = {label.split("-", 1)[0] for label in labels if label != "O" and "-" in label}
    if prefixes & {"E", "S"}:
        return "BIOES"
    if "B" in prefixes:
        return "BIO"
    return "IO"


def special_tokens_of(tokenizer: Any) -> SpecialTokens:
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if start is None or end is None:
        raise ModelRegistryError("the tokenizer defines no CLS/BOS or SEP/EOS token")
    return SpecialTokens(start=int(start), end=int(end), pad=int(pad))


def _max_length(config: Any, tokenizer: Any, requested: int | None) -> int:
    positions = int(getattr(config, "max_position_embeddings", 512))
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        positions -= 2  # RoBERTa positions start after the padding index
    limit = min(positions, int(min(tokenizer.model_max_length, 4096)))
    return min(requested, limit) if requested else min(limit, 512)


def quantize_int8(fp32: Path, target: Path, *, per_channel: bool = False) -> None:
    """``per_channel``: one weight scale per output column rather than per matrix."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)


def convert_fp16(fp32: Path, target: Path) -> None:
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = onnx.load(str(fp32))
    onnx.save(convert_float_to_float16(model, keep_io_types=True), str(target))


def export_model(
    source: str,
    name: str,
    *,
    int8: bool = True,
    fp16: bool = True,
    registry_dir: Path = REGISTRY_DIR,
    version: str = "1",
    license: str = "unknown",
    label_map: Mapping[str, str] | None = None,
    max_length: int | None = None,
    stride: int | None = None,
    evaluation: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> ModelManifest:
    """Export ``source``, a local checkpoint folder, as ``name``.

    Never a hub id: nothing in deidcode downloads a model. Fetch a checkpoint
    on a machine with network, then export the folder."""
    from optimum.exporters.onnx import main_export
    from transformers import AutoConfig, AutoTokenizer

    target = Path(registry_dir) / name
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise ModelRegistryError(f"model folder {target} exists; pass --overwrite to replace it")
    if not os.path.isdir(source):
        raise ModelRegistryError(
            f"checkpoint folder {source} not found: models export reads a local folder only "
            "and never downloads (fetch the checkpoint on a machine with network first)"
        )
    config = AutoConfig.from_pretrained(source, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, use_fast=True)
    if not getattr(tokenizer, "is_fast", False):
        raise ModelRegistryError(f"{source}: a fast tokenizer (tokenizer.json) is required")
    with tempfile.TemporaryDirectory() as scratch:
        main_export(
            source,
            output=scratch,
            task="token-classification",
            opset=OPSET,
            local_files_only=True,
            do_validation=False,
        )
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy(Path(scratch) / "model.onnx", target / "model.onnx")
    tokenizer.backend_tokenizer.save(str(target / "tokenizer.json"))
    variants = {"fp32": "model.onnx"}
    if int8:
        quantize_int8(target / "model.onnx", target / "model_int8.onnx")
        variants["int8"] = "model_int8.onnx"
    if fp16:
        convert_fp16(target / "model.onnx", target / "model_fp16.onnx")
        variants["fp16"] = "model_fp16.onnx"

    id2label = {int(k): v for k, v in config.id2label.items()}
    scheme = infer_label_scheme(list(id2label.values()))
    entity_labels = sorted(
        {v.split("-", 1)[-1] if scheme != "IO" else v for v in id2label.values()} - {"O"}
    )
    mapping = {label: label.upper() for label in entity_labels}
    mapping.update(label_map or {})
    length = _max_length(config, tokenizer, max_length)
    manifest = ModelManifest(
        name=name,
        version=version,
        id2label=id2label,
        label_scheme=scheme,
        label_map=mapping,
        max_length=length,
        stride=stride if stride is not None else length // 4,
        special_tokens=special_tokens_of(tokenizer),
        input_names=tuple(tokenizer.model_input_names),
        variants=variants,
        source_checkpoint=source,
        license=license,
        evaluation=dict(evaluation or {}),
        do_lower_case=bool(getattr(tokenizer, "do_lower_case", False)),
    )
    card = target / "MODEL_CARD.md"
    if not card.exists():
        card.write_text(_default_card(manifest, config), encoding="utf-8")
    return write_manifest(target, manifest)


def _default_card(manifest: ModelManifest, config: Any) -> str:
    labels = ", ".join(sorted(manifest.label_map))
    return (
        f"# {manifest.name} {manifest.version}\n\n"
        f"Exported by `deidcode models export` from `{manifest.source_checkpoint}` "
        f"({getattr(config, 'model_type', 'unknown')} architecture).\n\n"
        f"- Labels ({manifest.label_scheme}): {labels}\n"
        f"- Label map to deidcode subtypes: `{json.dumps(manifest.label_map, sort_keys=True)}`\n"
        f"- Windows: max_length {manifest.max_length}, stride {manifest.stride}\n"
        f"- Variants: {', '.join(sorted(manifest.variants))}\n"
        f"- Licence: {manifest.license}\n\n"
        "No training data, intended use or evaluation figures were recorded at export. "
        "Measure the model on local gold data with `deidcode eval phi` and add the figures "
        "and the training description here before using it on PHI.\n"
    )
