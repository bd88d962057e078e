"""Distil the bundled PHI model into a shallower student (issue 18's smaller-model lever).

The student is the teacher with fewer transformer layers: it starts from the
teacher's embeddings, classifier and every ``--keep-layers`` layer, then learns
the teacher's per-token label distribution (soft targets at ``--temperature``)
together with the corpus's gold labels, on the same synthetic corpus as the
teacher and, with ``--shared``, real PHI-free carrier text. The model's cost is
nearly proportional to its layer count, so a 3-layer student costs half of the
6-layer teacher per token.

Run (needs the train and export extras; about 45 minutes on 2 cores):

    python -m onnx_models.recipes.onnx_to_torch deid_phi_minilm build/phi_v1_torch
    python -m onnx_models.recipes.distil_phi --teacher build/phi_v1_torch \
        --keep-layers 1,3,5 --shared ../shared --checkpoint build/phi_student_l3

Then export it with ``publish_phi --name ... --checkpoint build/phi_student_l3``
and measure it with ``bench/phi_suite.py`` before it replaces anything.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from onnx_models.recipes.token_training import (
    IGNORE,
    Batch,
    save_checkpoint,
)
from onnx_models.recipes.train_phi import (
    add_corpus_arguments,
    corpus_examples,
    fit_on,
    run_figures,
    token_scores,
)


def shallow_copy_of(teacher, keep_layers: list[int]):
    """The teacher with only ``keep_layers`` of its encoder layers, in that order."""
    n_layers = teacher.config.num_hidden_layers
    if not keep_layers or any(not 0 <= i < n_layers for i in keep_layers):
        raise SystemExit(f"--keep-layers must name layers 0..{n_layers - 1}, got {keep_layers}")
    student = copy.deepcopy(teacher)
    student.bert.encoder.layer = torch.nn.ModuleList(
        student.bert.encoder.layer[i] for i in keep_layers
    )
    student.config.num_hidden_layers = len(keep_layers)
    return student


def distillation_loss(teacher, *, temperature: float, soft_weight: float):
    """``soft_weight`` × KL(teacher ‖ student) at ``temperature`` over every real token,
    plus the rest × cross-entropy on the gold labels.

    Soft targets on every token, not only labelled ones, carry what the teacher
    learnt about carrier text and subword pieces; the gold term keeps the student
    from copying the teacher's mistakes on the synthetic PHI."""

    def loss_of(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        with torch.no_grad():
            teacher_logits = teacher(input_ids=batch.ids, attention_mask=batch.mask).logits
        real = batch.mask.bool()
        student_log_probs = torch.log_softmax(logits[real] / temperature, dim=-1)
        teacher_probs = torch.softmax(teacher_logits[real] / temperature, dim=-1)
        soft = torch.nn.functional.kl_div(student_log_probs, teacher_probs, reduction="batchmean")
        valid = batch.labels != IGNORE
        hard = torch.nn.functional.cross_entropy(logits[valid], batch.labels[valid])
        return soft_weight * temperature**2 * soft + (1 - soft_weight) * hard

    return loss_of


def distil(args: argparse.Namespace) -> Path:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(args.teacher, local_files_only=True)
    teacher = AutoModelForTokenClassification.from_pretrained(args.teacher, local_files_only=True)
    teacher.eval()
    keep_layers = [int(i) for i in args.keep_layers.split(",")]
    student = shallow_copy_of(teacher, keep_layers)
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)

    train_examples, heldout_train, test_examples = corpus_examples(args, tokenizer)
    log = fit_on(
        student,
        train_examples,
        tokenizer,
        args,
        loss_of=distillation_loss(
            teacher, temperature=args.temperature, soft_weight=args.soft_weight
        ),
    )
    figures = {
        "synthetic_train_templates": token_scores(student, heldout_train, tokenizer),
        "synthetic_test_templates": token_scores(student, test_examples, tokenizer),
        "teacher": {
            "synthetic_train_templates": token_scores(teacher, heldout_train, tokenizer),
            "synthetic_test_templates": token_scores(teacher, test_examples, tokenizer),
        },
        "training": {
            "method": "distillation",
            "teacher": str(args.teacher),
            "keep_layers": keep_layers,
            "temperature": args.temperature,
            "soft_weight": args.soft_weight,
            **run_figures(args, log, len(train_examples)),
        },
    }
    print(json.dumps(figures, indent=2), flush=True)
    checkpoint = save_checkpoint(student, tokenizer, Path(args.checkpoint), figures, log)
    return checkpoint


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teacher", type=Path, required=True, help="a transformers checkpoint")
    parser.add_argument("--keep-layers", default="1,3,5", help="teacher layers the student keeps")
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--soft-weight", type=float, default=0.7)
    # The teacher's corpus (1.0: 30,000 template notes, seed 13), one epoch.
    add_corpus_arguments(parser, minutes=45, epochs=1, train_notes=30000)
    parser.add_argument("--checkpoint", default="build/phi_student")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    distil(parse_args(argv))


if __name__ == "__main__":
    main()
