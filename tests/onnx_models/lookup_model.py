"""A real, tiny ONNX token classifier whose logits depend on each token alone.

Its graph is a Gather from a fixed table: the label of a token never depends
on its window or neighbours, so window planning, merging and decoding can be
checked exactly. Tokens of "poison" words have ids beyond the table, so
onnxruntime fails on any batch holding them: a real inference failure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

from onnx_models.registry import ModelManifest, SpecialTokens, write_manifest

LABELS = {0: "O", 1: "B-NAME", 2: "I-NAME", 3: "B-DATE", 4: "I-DATE"}
NAMES = ["john", "smith", "jones", "maria", "okafor"]
DATE_WORDS = ["monday", "tuesday"]
# A name the model is unsure of: O is its most probable label (0.62), but 0.38 of
# its probability is on B-NAME, so only entity_mass decoding at <= 0.38 finds it.
LEANING_NAMES = ["jonas"]
FILLER = ["the", "patient", "was", "seen", "today", "and", "had", "no", "pain", "."]
POISON = ["poison"]
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
# The clinical variant: problems and drugs. "smith" opens a problem too
# ("smith syndrome"), so an entity can overlap a name the PHI variant finds.
CLINICAL_LABELS = {0: "O", 1: "B-PROBLEM", 2: "I-PROBLEM", 3: "B-DRUG", 4: "I-DRUG"}
PROBLEM_OPENERS = ["asthma", "pneumonia", "diabetes", "smith"]
PROBLEM_CONTINUERS = ["syndrome", "disease"]
DRUGS = ["aspirin", "metformin"]
CLINICAL_EXTRA = ["denies", "history", "of", "mother", "has", "takes", "if", "worsens"]


def _row(label: int) -> list[float]:
    return [4.0 if index == label else -4.0 for index in range(len(LABELS))]


def build_tokenizer(*, clinical: bool = False) -> Tokenizer:
    clinical_words = PROBLEM_OPENERS + PROBLEM_CONTINUERS + DRUGS + CLINICAL_EXTRA
    words = FILLER + NAMES + DATE_WORDS + LEANING_NAMES
    words += (clinical_words if clinical else []) + ["##s"]
    vocab_words = SPECIAL + list(dict.fromkeys(words)) + POISON
    vocab = {word: index for index, word in enumerate(vocab_words)}
    tokenizer = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    return tokenizer


def build_model(path: Path, tokenizer: Tokenizer, *, clinical: bool = False) -> None:
    vocab = tokenizer.get_vocab()
    table_size = vocab[POISON[0]]  # poison ids fall outside the table
    table = np.full((table_size, len(LABELS)), -4.0, dtype=np.float32)
    table[:, 0] = 4.0
    if clinical:
        for word in PROBLEM_OPENERS:
            table[vocab[word]] = _row(1)
        for word in PROBLEM_CONTINUERS:
            table[vocab[word]] = _row(2)
        for word in DRUGS:
            table[vocab[word]] = _row(3)
    else:
        for word in NAMES:
            table[vocab[word]] = _row(2)  # I-NAME: lenient decoding opens it
        for word in DATE_WORDS:
            table[vocab[word]] = _row(3)
        for word in LEANING_NAMES:
            table[vocab[word]] = [1.0, 0.5, -4.0, -4.0, -4.0]
        table[vocab["##s"]] = _row(2)
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["raw"], axis=0),
            helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_f", "axis"], ["mask_3d"]),
            helper.make_node("Mul", ["raw", "mask_3d"], ["logits"]),
        ],
        "lookup_ner",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "seq", len(LABELS)])],
        initializer=[
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "axis"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def build_lookup_registry(
    directory: Path, *, max_length: int = 12, stride: int = 3, clinical: bool = False
) -> Path:
    """Write a complete registry folder for the lookup model and return it: the PHI
    variant (NAME, DATE), or with ``clinical`` the entity variant (PROBLEM, DRUG)."""
    name = "lookup_clinical" if clinical else "lookup_ner"
    model_dir = directory / name
    model_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(clinical=clinical)
    tokenizer.save(str(model_dir / "tokenizer.json"))
    build_model(model_dir / "model.onnx", tokenizer, clinical=clinical)
    (model_dir / "MODEL_CARD.md").write_text(f"# {name}\n\nA test model: a Gather table.\n")
    vocab = tokenizer.get_vocab()
    manifest = ModelManifest(
        name=name,
        version="test",
        id2label=CLINICAL_LABELS if clinical else LABELS,
        label_scheme="BIO",
        label_map=(
            {"PROBLEM": "PROBLEM", "DRUG": "DRUG"}
            if clinical
            else {"NAME": "PATIENT", "DATE": "DATE"}
        ),
        max_length=max_length,
        stride=stride,
        special_tokens=SpecialTokens(start=vocab["[CLS]"], end=vocab["[SEP]"], pad=vocab["[PAD]"]),
        input_names=("input_ids", "attention_mask"),
        variants={"fp32": "model.onnx"},
        source_checkpoint="tests/onnx_models/lookup_model.py",
        license="Apache-2.0",
    )
    write_manifest(model_dir, manifest)
    return model_dir
