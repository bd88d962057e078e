"""Embed short texts with an ONNX sentence encoder: tokenize, batch, pool, normalise.

onnxruntime, tokenizers and numpy only, like the token classifier. The coder
uses it to compare diagnosis mentions with code titles, so one rule matters
more than speed: a text must be embedded exactly as the vectors it is compared
with were, which is why the encoder runs the int8 file on the CPU whatever the
machine has (onnxruntime's int8 kernels are CPU kernels in any case).

int8 dynamic quantization scales activations over a whole batch, so a text's
vector moves slightly with its batch mates: ``embed`` takes its batches in a
fixed order from the texts it is given, and the same list always gives the
same vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tokenizers import Tokenizer

from onnx_models.registry import FEATURE_EXTRACTION, ModelBundle, ModelRegistryError
from onnx_models.runtime.session import open_session

ENCODER_VARIANT = "int8"


class SentenceEncoder:
    """A loaded sentence encoder: texts in, unit-length float32 vectors out."""

    def __init__(
        self, bundle: ModelBundle, *, batch_size: int = 64, intra_op_num_threads: int = 0
    ) -> None:
        manifest = bundle.manifest
        if manifest.task != FEATURE_EXTRACTION:
            raise ModelRegistryError(
                f"model {manifest.name} is a {manifest.task} model, not a sentence encoder"
            )
        if ENCODER_VARIANT not in manifest.variants:
            raise ModelRegistryError(f"model {manifest.name} has no {ENCODER_VARIANT} variant")
        self.bundle = bundle
        self.manifest = manifest
        self.batch_size = batch_size
        self.session = open_session(
            bundle.variant_path(ENCODER_VARIANT),
            providers=["CPUExecutionProvider"],
            intra_op_num_threads=intra_op_num_threads,
        )
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.output_name = self.session.get_outputs()[0].name
        self.tokenizer = Tokenizer.from_file(str(bundle.tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=manifest.max_length)
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def describe(self) -> dict[str, str]:
        return {
            **self.manifest.describe(),
            "variant": ENCODER_VARIANT,
            "sha256": self.manifest.files[self.manifest.variants[ENCODER_VARIANT]],
        }

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, unit length; shortest texts batched together."""
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: (len(encodings[i].ids), i))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for begin in range(0, len(order), self.batch_size):
            chunk = order[begin : begin + self.batch_size]
            vectors[chunk] = self._embed_batch([encodings[i].ids for i in chunk])
        return vectors

    def _embed_batch(self, rows: list[list[int]]) -> np.ndarray:
        width = max(len(r) for r in rows)
        input_ids = np.full((len(rows), width), self.manifest.special_tokens.pad, dtype=np.int64)
        attention = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = row
            attention[i, : len(row)] = 1
        feed = {"input_ids": input_ids, "attention_mask": attention}
        if "token_type_ids" in self.input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        hidden = self.session.run([self.output_name], feed)[0]
        mask = attention[:, :, None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
