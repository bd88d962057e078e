"""Train the ICD-10-CM coder on CodiEsp-EN train, and judge it on CodiEsp-EN dev.

    PYTHONPATH=. python bench/coding_mentions.py --shared ../shared --out build/coding
    PYTHONPATH=. python bench/train_coder.py --mentions build/coding --shared ../shared \
        --version 1.0 --out bench/coding/training.json

Reads the cached entities of ``coding_mentions.py``; fits the reranker with
out-of-fold lexicon features; fits a note-level model on the fit folds; chooses the threshold on the
validation fold of train; writes ``transforms/coding/data/coder_model.json.gz``
and pins its sha256. Dev is scored once, with the final model, in two
settings: the default assertion policy, and CodiEsp's gold setting (negated,
uncertain and historical mentions coded as the condition), against the gold
as released and against the gold read in April 2026 codes (``successor``).
Nothing is tuned on dev.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

from transforms.coding.codeset import CodeSet, bundled_code_set, pin_data_file
from transforms.coding.dense import bundled_dense_retriever
from transforms.coding.lexical import bundled_lexical_index
from transforms.coding.model import DATA_DIR, DEFAULT_CODER, MODEL_FILES, NOTE_FEATURE_NAMES
from transforms.coding.pair_models import LogisticPairModel, TreePairModel, interaction_names
from transforms.coding.rules import AssertionPolicy, HistoricalPolicy, HistoryCodes
from transforms.coding.suggest import SUGGESTED, CodeSuggester, CodingSettings
from transforms.coding.training import VALIDATION_FOLD, CodedDocument, fold_of, train
from transforms.core.entities import Assertion, ClinicalEntity
from transforms.core.hashing import sha256_file
from transforms.entities.assertion import default_asserter
from transforms.evaluation.code_metrics import coding_metrics

GOLD_SETTING = AssertionPolicy(
    include_negated=True, include_uncertain=True, historical=HistoricalPolicy.CONDITION
)


def current_codes(codes: list[str], code_set: CodeSet) -> frozenset[str]:
    """Gold codes of an older release as this release's codes (R51 -> R51.9);
    one with no plain successor is kept as it was, and counts as a miss."""
    return frozenset(code_set.successor(code) or code for code in codes)


def load_documents(path: Path, code_set: CodeSet | None = None) -> list[CodedDocument]:
    """The cached documents; with ``code_set``, gold codes read in its release."""
    documents = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        entities = tuple(
            ClinicalEntity(
                **{
                    **entity,
                    "assertion": Assertion(
                        **{**entity["assertion"], "rules": tuple(entity["assertion"]["rules"])}
                    ),
                }
            )
            for entity in record["entities"]
        )
        gold = record["codes_dx"]
        documents.append(
            CodedDocument(
                record["id"],
                record["text"],
                entities,
                current_codes(gold, code_set) if code_set else frozenset(gold),
            )
        )
    return documents


def assert_spans(text: str, spans: list[tuple[int, int]]) -> list[Assertion]:
    """ConText on coder mentions, with the bundled rules, as the pipeline asserts them."""
    return _asserter().assert_problems(text, spans)


def phrase_allowed(phrase: str) -> bool:
    """A phrase key may hold no ConText trigger: as one coder mention, "no fever"
    would carry its own negation inside it, where no trigger reaches."""
    return not _asserter().has_trigger(phrase)


@functools.lru_cache(maxsize=1)
def _asserter():
    return default_asserter()


def suggest(suggester: CodeSuggester, document: CodedDocument):
    return suggester.code_note(document.text, document.entities, assert_spans)


def evaluate(suggester: CodeSuggester, documents: list[CodedDocument]) -> dict:
    started = time.perf_counter()
    found = {d.id: suggest(suggester, d) for d in documents}
    seconds = time.perf_counter() - started
    metrics = coding_metrics(
        {d.id: set(d.gold) for d in documents},
        {i: [s.code for s in codes if s.status == SUGGESTED] for i, codes in found.items()},
        {i: [s.code for s in codes] for i, codes in found.items()},
    )
    return {**metrics.to_dict(), "ms_per_document": round(1000 * seconds / len(documents), 1)}


def named(names, values) -> dict[str, float]:
    return {name: round(float(v), 4) for name, v in zip(names, values, strict=True)}


def pair_model_report(model, feature_names) -> dict:
    if isinstance(model, LogisticPairModel):
        weights = named(interaction_names(feature_names), model.weights)
        return {"kind": "logistic", "weights": weights}
    if isinstance(model, TreePairModel):
        return {"kind": "trees", "parameters": model.parameters, "onnx_sha256": model.sha256}
    raise TypeError(f"unknown pair model {type(model).__name__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=Path, required=True)
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--pair-model",
        choices=("trees", "logistic"),
        default="logistic",
        help="the mention-level model: logistic (the bundled coder) or gradient-boosted trees "
        "(tried, not bundled: see the model card)",
    )
    parser.add_argument(
        "--name",
        choices=sorted(MODEL_FILES),
        default=DEFAULT_CODER,
        help="which bundled coder to write (data/" + ", data/".join(MODEL_FILES.values()) + ")",
    )
    parser.add_argument(
        "--dense-k",
        type=int,
        default=0,
        help="code titles nearest each mention surface to add as candidates (0: no dense "
        "retrieval, as the default coder; 5 for the dense one)",
    )
    parser.add_argument(
        "--dense-unlinked-only",
        action="store_true",
        help="embed only mention surfaces the lexicon links to no code (cheaper at run time)",
    )
    args = parser.parse_args()
    train_source = args.shared / "data" / "codiesp_train_en.jsonl"
    code_set, index = bundled_code_set(), bundled_lexical_index()
    dense = bundled_dense_retriever() if args.dense_k else None
    # The coder learns this release's codes: CodiEsp's R51 is taught as R51.9.
    documents = load_documents(args.mentions / "mentions_train.jsonl", code_set)
    dev = load_documents(args.mentions / "mentions_dev.jsonl")
    dev_current = load_documents(args.mentions / "mentions_dev.jsonl", code_set)
    started = time.perf_counter()
    result = train(
        documents,
        index=index,
        dense=dense,
        code_set=code_set,
        name=args.name,
        version=args.version,
        dense_candidates_per_query=args.dense_k,
        dense_unlinked_only=args.dense_unlinked_only,
        assert_spans=assert_spans,
        phrase_allowed=phrase_allowed,
        fit_pairs=TreePairModel.fit if args.pair_model == "trees" else LogisticPairModel.fit,
        provenance={
            "training_data": "CodiEsp-EN train (CC-BY-4.0), diagnoses",
            "training_sha256": sha256_file(train_source),
            "entities": "clinical_ner_minilm with the bundled ConText rules",
            "dense_encoder": dense.describe() if dense else None,
        },
    )
    train_seconds = time.perf_counter() - started
    path = DATA_DIR / MODEL_FILES[args.name]
    result.model.save(path)
    pin_data_file(
        path,
        f"{args.name}: the coder's logistic reranker, calibration, threshold and lexicon, "
        "trained by bench/train_coder.py on CodiEsp-EN train",
    )

    history = HistoryCodes.load(code_set)

    def suggester(policy: AssertionPolicy) -> CodeSuggester:
        return CodeSuggester(
            model=result.model,
            code_set=code_set,
            index=index,
            dense=dense,
            history=history,
            settings=CodingSettings(policy=policy),
        )

    report = {
        "model": f"{result.model.name}:{result.model.version}",
        "threshold": round(result.model.threshold, 4),
        "note_weights": named(NOTE_FEATURE_NAMES, result.model.note_weights),
        "pair_model": pair_model_report(result.model.pair_model, result.model.feature_names),
        "train_documents_per_fold": result.folds,
        "validation_fold": VALIDATION_FOLD,
        "validation_fold_micro_f1_at_threshold": round(result.validation_micro_f1, 4),
        "pair_rows": result.pair_rows,
        "train_seconds": round(train_seconds, 1),
        "lexicon_surfaces": len(result.model.lexicon.support),
        "dev_gold_setting": evaluate(suggester(GOLD_SETTING), dev),
        "dev_default_policy": evaluate(suggester(AssertionPolicy()), dev),
        "dev_gold_setting_gold_in_2026_codes": evaluate(suggester(GOLD_SETTING), dev_current),
        "validation_fold_documents": sum(fold_of(d.id) == VALIDATION_FOLD for d in documents),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
