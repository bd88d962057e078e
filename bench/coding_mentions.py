"""Clinical entities of CodiEsp documents, cached for the coder's training and benches.

    PYTHONPATH=. python bench/coding_mentions.py --shared ../shared --out build/coding

Runs the bundled entity step (clinical NER + ConText, the defaults a run uses) on
every document of CodiEsp-EN train and dev and writes, per split, one JSON line
per document: its id, gold diagnosis codes, text and entities with assertion.
The files stay under build/ (CodiEsp text is not copied into the repo).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from transforms.core.records import ModelFailure
from transforms.entities.step import EntityStep

SPLITS = ("train", "dev")


def entity_finder():
    step = EntityStep.build(model="clinical_ner_minilm", options={"default_threshold": 0.5})
    return step.handler().load_model()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    finder = entity_finder()
    args.out.mkdir(parents=True, exist_ok=True)
    for split in SPLITS:
        source = args.shared / "data" / f"codiesp_{split}_en.jsonl"
        documents = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
        started = time.perf_counter()
        with (args.out / f"mentions_{split}.jsonl").open("w", encoding="utf-8") as out:
            for begin in range(0, len(documents), 16):
                batch = documents[begin : begin + 16]
                for document, found in zip(
                    batch, finder.find([d["text"] for d in batch]), strict=True
                ):
                    if isinstance(found, ModelFailure):
                        raise SystemExit(f"{source}: document {document['id']}: {found.detail}")
                    record = {
                        "id": document["id"],
                        "codes_dx": document["codes_dx"],
                        "text": document["text"],
                        "entities": [dataclasses.asdict(e) for e in found],
                    }
                    out.write(json.dumps(record, sort_keys=True) + "\n")
        print(f"{split}: {len(documents)} documents in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
