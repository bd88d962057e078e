"""How often the lexical retriever's candidates hold the gold codes (CodiEsp, diagnoses).

    PYTHONPATH=. python bench/coding_candidates.py --shared ../shared \
        --out bench/coding/candidates.json

Each line of a document is a query; a document's candidates are the union of
each line's top k. Candidate recall is the share of the gold codes, counted once
per document, found among them. Gold codes that are not billable in the bundled
April 2026 code set (CodiEsp was coded with an older release, and sometimes to a
category) can never be found, and are counted apart. Nothing is tuned here: it
measures the first stage that a reranker (issue 14) will choose from.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from transforms.coding.codeset import bundled_code_set
from transforms.coding.lexical import bundled_lexical_index

KS = (5, 10, 20, 50)


def measure(path: Path) -> dict:
    index = bundled_lexical_index()
    codes = bundled_code_set()
    documents = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    gold_total = not_billable = 0
    found = dict.fromkeys(KS, 0)
    pool_sizes = dict.fromkeys(KS, 0)
    for document in documents:
        gold = set(document["codes_dx"])
        gold_total += len(gold)
        not_billable += sum(code not in codes for code in gold)
        ranked = [index.search(line, k=max(KS)) for line in document["text"].splitlines()]
        for k in KS:
            pool = {c.code for hits in ranked for c in hits[:k]}
            found[k] += len(gold & pool)
            pool_sizes[k] += len(pool)
    return {
        "documents": len(documents),
        "gold_codes": gold_total,
        "gold_not_billable_in_2026": not_billable,
        "candidate_recall": {str(k): round(found[k] / gold_total, 4) for k in KS},
        "candidate_recall_of_billable_gold": {
            str(k): round(found[k] / (gold_total - not_billable), 4) for k in KS
        },
        "mean_candidates_per_document": {
            str(k): round(pool_sizes[k] / len(documents), 1) for k in KS
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    data = args.shared / "data"
    results = {
        "train": measure(data / "codiesp_train_en.jsonl"),
        "dev": measure(data / "codiesp_dev_en.jsonl"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
