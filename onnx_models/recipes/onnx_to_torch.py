"""Rebuild a trainable PyTorch checkpoint from a bundled token classifier's ONNX export.

The fp32 training checkpoints are not kept in the repository (size), so a
model can only be trained further from what is bundled: the fp16 export. Its
initializers are the fine-tuned weights. Biases and LayerNorm parameters keep
their PyTorch names; each Linear weight was turned into a MatMul operand
(transposed, anonymous), whose node name says which module it came from.

Run: python -m onnx_models.recipes.onnx_to_torch onnx_models/deid_phi_minilm build/phi_v1_torch
(needs the train and export extras). The rebuilt checkpoint's logits are
checked against onnxruntime's on the same input before it is saved.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

# "/bert/encoder/layer.0/attention/self/query/MatMul" -> "bert.encoder.layer.0.attention.self.query"
_MATMUL_NODE = re.compile(r"^/(?P<module>.+)/MatMul$")


def onnx_state_dict(onnx_path: Path) -> dict[str, np.ndarray]:
    """PyTorch parameter name -> float32 array, from an exported BERT-style graph."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        if name.startswith(("bert.", "classifier.")):
            state[name] = array.astype(np.float32)
    for node in graph.node:
        if node.op_type != "MatMul":
            continue
        match = _MATMUL_NODE.match(node.name)
        weight = next((arrays[i] for i in node.input if i in arrays), None)
        if match is None or weight is None:
            continue
        module = match.group("module").replace("/", ".")
        # The MatMul computes x @ W with W of shape (in, out); nn.Linear keeps (out, in).
        state[f"{module}.weight"] = weight.astype(np.float32).T.copy()
    return state


def recover(model: str | Path, out: Path, *, variant: str = "fp16") -> Path:
    """Write a transformers checkpoint (weights, config, tokenizer) rebuilt from the
    ONNX ``variant`` of ``model`` (a registry name or folder), after checking the
    export's files against its manifest and that the rebuilt model reproduces it."""
    import onnxruntime as ort
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    from onnx_models.recipes.token_training import base_model_dir
    from onnx_models.registry import model_dir, read_manifest, verify_files

    directory = model_dir(model)
    manifest = read_manifest(directory)
    verify_files(directory, manifest)
    onnx_path = directory / manifest.variants[variant]
    id2label = manifest.id2label
    config = AutoConfig.from_pretrained(
        base_model_dir(),
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
        local_files_only=True,
    )
    rebuilt = AutoModelForTokenClassification.from_config(config)
    state = {name: torch.from_numpy(array) for name, array in onnx_state_dict(onnx_path).items()}
    missing, unexpected = rebuilt.load_state_dict(state, strict=False)
    # position_ids is a buffer, not a weight; anything else missing is a broken export.
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"{onnx_path}: weights do not match the model: {missing or unexpected}")
    rebuilt.eval()
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir(), local_files_only=True)
    sample = tokenizer(
        ["Pt John Smith seen 3/14 at Mercy General, call 555-0134."], return_tensors="np"
    )
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    feeds = {k: v.astype(np.int64) for k, v in sample.items() if k in wanted}
    expected = session.run(None, feeds)[0]
    with torch.no_grad():
        got = rebuilt(**{k: torch.from_numpy(v) for k, v in sample.items()}).logits.numpy()
    worst = float(np.abs(got - expected).max())
    if worst > 0.05 or not (got.argmax(-1) == expected.argmax(-1)).all():
        raise SystemExit(
            f"{onnx_path}: rebuilt model differs from the export (max |Δlogit| {worst})"
        )
    out.mkdir(parents=True, exist_ok=True)
    rebuilt.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "recovered_from.json").write_text(
        json.dumps(
            {
                "model": manifest.name,
                "version": manifest.version,
                "variant": variant,
                "max_abs_logit_difference": round(worst, 5),
            },
            indent=2,
        )
    )
    print(f"{out}: rebuilt from {onnx_path} (max |Δlogit| {worst:.5f})")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a registry name or a model folder with manifest.json")
    parser.add_argument("out", type=Path, help="where to write the checkpoint")
    parser.add_argument("--variant", default="fp16")
    args = parser.parse_args(argv)
    from onnx_models.registry import ModelRegistryError

    try:
        recover(args.model, args.out, variant=args.variant)
    except ModelRegistryError as exc:  # a missing, unpinned or changed file, by name
        raise SystemExit(str(exc)) from None


if __name__ == "__main__":
    main()
