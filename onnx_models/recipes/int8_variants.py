"""Other int8 builds of a token classifier, for issue 18's quantization levers.

The bundled int8 is onnxruntime's dynamic quantization of the plain export.
Two alternatives, each written as a registry folder whose ``int8`` variant is
the alternative (the source folder's tokenizer and manifest otherwise), so
``bench/bench_phi_variants.py``, ``bench/bench_pipeline.py --phi-model`` and
``bench/phi_suite.py`` run it as they run any model folder:

* ``static``: static QDQ int8, calibrated on windows of generated notes (a
  seed no training recipe uses; nothing real). Dynamic quantization picks each
  activation's scale from the batch it sees, so a window's logits can depend
  on its batch neighbours and the engine feeds one window per call; a static
  model's scales are fixed at calibration, so batching cannot change a result.
* ``fused``: onnxruntime's transformer optimizer first (fused attention,
  skip-layer-norm, GELU and embeddings), then dynamic int8, as onnxruntime
  recommends for BERT on the CPU.

    python -m onnx_models.recipes.int8_variants static \
        build/registry/deid_phi_minilm_full build/registry/deid_phi_minilm_static

Reads the fp32 variant of a full export (``publish_phi`` writes one under
``build/registry``). Needs the export extra.
"""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CALIBRATION_SEED = 20261204


def calibration_feeds(
    source: Path, *, notes: int, seed: int = CALIBRATION_SEED
) -> Iterator[dict[str, np.ndarray]]:
    """One feed per window of ``notes`` generated notes, framed as the engine frames them."""
    from tokenizers import Tokenizer

    from onnx_models.recipes.phi_corpus import CorpusConfig, generate
    from onnx_models.registry import load_bundle
    from onnx_models.runtime.windows import plan_windows

    bundle = load_bundle(str(source))
    manifest = bundle.manifest
    tokenizer = Tokenizer.from_file(str(bundle.tokenizer_path))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    special = manifest.special_tokens
    records = generate(CorpusConfig("train", notes, seed))
    random.Random(seed).shuffle(records)
    for record in records:
        ids = tokenizer.encode(record["text"], add_special_tokens=False).ids
        for window in plan_windows(
            len(ids), max_length=manifest.max_length, stride=manifest.stride
        ):
            framed = [special.start, *ids[window.start : window.end], special.end]
            input_ids = np.array([framed], dtype=np.int64)
            yield {
                "input_ids": input_ids,
                "attention_mask": np.ones_like(input_ids),
                "token_type_ids": np.zeros_like(input_ids),
            }


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over ``calibration_feeds``."""

    def __init__(self, feeds: Iterator[dict[str, np.ndarray]], input_names: set[str]) -> None:
        self._feeds = feeds
        self._input_names = input_names

    def get_next(self) -> dict[str, np.ndarray] | None:
        feed = next(self._feeds, None)
        if feed is None:
            return None
        return {name: array for name, array in feed.items() if name in self._input_names}


def _write_folder(source: Path, target: Path, how: str) -> Path:
    """``target`` as a registry folder: its int8 variant and ``source``'s tokenizer."""
    from onnx_models.registry import ModelManifest, read_manifest, write_manifest

    manifest = read_manifest(source)
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    data = manifest.to_dict()
    data.update(
        name=f"{manifest.name}_{target.name}",
        variants={"int8": "model_int8.onnx"},
        files={},
        source_checkpoint=f"{manifest.source_checkpoint}; int8: {how}",
    )
    write_manifest(target, ModelManifest.from_dict(data))
    return target


def fp32_of(source: Path) -> Path:
    from onnx_models.registry import read_manifest

    return source / read_manifest(source).variants["fp32"]


def quantize_static_int8(source: Path, target: Path, *, notes: int, method: str) -> Path:
    """Static QDQ int8: per-channel int8 weights, uint8 activations at fixed scales."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    target.mkdir(parents=True, exist_ok=True)
    prepared = target / "model_prepared.onnx"
    quant_pre_process(str(fp32_of(source)), str(prepared), skip_symbolic_shape=True)
    input_names = {i.name for i in onnx.load(str(prepared)).graph.input}
    quantize_static(
        str(prepared),
        str(target / "model_int8.onnx"),
        _Reader(calibration_feeds(source, notes=notes), input_names),
        quant_format=QuantFormat.QDQ,
        # Only the matrix products: they are the cost, and quantizing LayerNorm,
        # softmax and GELU inputs costs accuracy for little speed.
        op_types_to_quantize=["MatMul", "Gemm"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=getattr(CalibrationMethod, method),
    )
    prepared.unlink()
    how = f"static QDQ, per-channel weights, {method} calibration on {notes} generated notes"
    return _write_folder(source, target, how)


def fuse_then_quantize(source: Path, target: Path) -> Path:
    """onnxruntime's BERT fusions on the fp32 graph, then dynamic int8 as bundled."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    target.mkdir(parents=True, exist_ok=True)
    # num_heads and hidden_size 0: the optimizer reads them from the graph.
    fused = optimize_model(str(fp32_of(source)), model_type="bert", num_heads=0, hidden_size=0)
    fused_path = target / "model_fused_fp32.onnx"
    fused.save_model_to_file(str(fused_path))
    quantize_dynamic(
        str(fused_path),
        str(target / "model_int8.onnx"),
        weight_type=QuantType.QInt8,
        # The fused ops (Attention, SkipLayerNormalization) are outside the default
        # domain, so shape inference cannot type their outputs; they are float.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fused_path.unlink()
    return _write_folder(source, target, "onnxruntime transformer fusions, then dynamic int8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("how", choices=["static", "fused"])
    parser.add_argument("source", type=Path, help="a registry folder with an fp32 variant")
    parser.add_argument("target", type=Path)
    parser.add_argument("--notes", type=int, default=200, help="generated notes to calibrate on")
    parser.add_argument("--method", default="MinMax", choices=["MinMax", "Percentile", "Entropy"])
    args = parser.parse_args(argv)
    if args.how == "static":
        quantize_static_int8(args.source, args.target, notes=args.notes, method=args.method)
    else:
        fuse_then_quantize(args.source, args.target)
    print(f"{args.target}: {args.how} int8")


if __name__ == "__main__":
    main()
