"""The review queue on PostgreSQL at 100,000 items: how long `review load` takes
for 100,000 suggestions, and claim-next plus a decision per request (p50/p95).

The run is made up (no real text): 100,000 notes of a few hundred characters,
one suggested code each, with keyed text digests as a real run's audit has.
Everything happens in a fresh schema of the local `test` database, dropped after.

Run: PYTHONPATH=. python bench/bench_review.py --out bench/results_review.json
     (not part of CI: a few minutes)
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from schemas.review_db import upgrade_schema
from transforms.core.keyed import RunKeys, keyed_text_digest
from transforms.hcc.tables import load_payment_year
from transforms.review import queue
from transforms.review.loader import RunCodes, load_run
from transforms.review.users import add_user, authenticate

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
CODES = [("E11.22", "Type 2 diabetes mellitus with diabetic chronic kidney disease"),
         ("I50.22", "Chronic systolic (congestive) heart failure"),
         ("J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation"),
         ("I10", "Essential (primary) hypertension")]  # fmt: skip


def made_up_run(n_notes: int, keys: RunKeys, seed: int = 7) -> tuple[RunCodes, list]:
    rng = random.Random(seed)
    texts, codes, notes, digests = [], {}, {}, {}
    for i in range(n_notes):
        note_id = f"N{i:07d}"
        code, title = CODES[i % len(CODES)]
        text = (
            f"ASSESSMENT: {title.lower()}, follow-up in {rng.randint(2, 12)} weeks. "
            f"BP {rng.randint(110, 160)}/{rng.randint(60, 95)}. " * 4
        )
        texts.append((note_id, text))
        start = text.index(title.lower())
        codes[note_id] = [
            {
                "code": code,
                "description": title,
                "rank": 1,
                "score": round(rng.uniform(0.4, 0.99), 3),
                "evidence": [{"start": start, "end": start + len(title)}],
            }
        ]
        notes[note_id] = {"patient_id": f"p{i % 20000}", "note_type": "progress_note"}
        digests[note_id] = keyed_text_digest(keys, text)
    return RunCodes("20261202T000000Z-bench", codes, notes, digests), texts


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("bench/results_review.json"))
    args = parser.parse_args()
    schema = f"bench_review_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = sa.create_engine(f"{POSTGRES}?options=-csearch_path%3D{schema}")
    try:
        upgrade_schema(engine)
        keys = RunKeys.derive(b"review-benchmark-key-not-a-secret-0123456789")
        run, texts = made_up_run(args.items, keys)
        started = time.perf_counter()
        summary = load_run(
            engine, run, texts, keys, year=load_payment_year(2026), workgroup_for=lambda _: "coding"
        )
        load_seconds = time.perf_counter() - started
        add_user(engine, "bench", "benchmark password", role="coder", workgroups=["coding"])
        coder = authenticate(engine, "bench", "benchmark password")
        claim_ms, decide_ms, both_ms, submit_ms = [], [], [], []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            item_id = queue.claim_next(engine, coder)
            t1 = time.perf_counter()
            with engine.connect() as connection:
                suggestion_id = connection.execute(
                    sa.text("SELECT suggestion_id FROM review_suggestions WHERE item_id = :i"),
                    {"i": item_id},
                ).scalar_one()
            t2 = time.perf_counter()
            queue.decide(engine, coder, item_id, action="accept", suggestion_id=suggestion_id)
            t3 = time.perf_counter()
            queue.submit(engine, coder, item_id)
            t4 = time.perf_counter()
            claim_ms.append((t1 - t0) * 1000)
            decide_ms.append((t3 - t2) * 1000)
            both_ms.append((t1 - t0 + t3 - t2) * 1000)
            submit_ms.append((t4 - t3) * 1000)
        report = {
            "machine": f"{platform.machine()}, PostgreSQL on 127.0.0.1, 2 cores shared",
            "command": "PYTHONPATH=. python bench/bench_review.py",
            "items": args.items,
            "load": {"seconds": round(load_seconds, 1), **summary.as_dict()},
            "requests": args.requests,
            "ms": {
                name: {
                    "p50": round(statistics.median(values), 2),
                    "p95": round(percentile(values, 95), 2),
                }
                for name, values in (
                    ("claim_next", claim_ms),
                    ("decision", decide_ms),
                    ("claim_next_plus_decision", both_ms),
                    ("submit", submit_ms),
                )
            },
        }
        print(json.dumps(report, indent=2))
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
