"""A review database filled with made-up items (no real text), for queue tests."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from schemas.review_db import items, suggestions, upgrade_schema
from transforms.review.queue import Reviewer, utcnow
from transforms.review.users import add_user, authenticate

PASSWORD = "a long enough password"
# A made-up note (no real patient): what a progress note's assessment looks like.
NOTE = (
    "PROGRESS NOTE\n\n"
    "SUBJECTIVE: Seen for follow-up of type 2 diabetes. Reports good adherence to "
    "metformin. No chest pain or dyspnea.\n\n"
    "OBJECTIVE: BP 138/82. A1c 8.1%. eGFR 48, stable.\n\n"
    "ASSESSMENT:\n"
    "1. Type 2 diabetes mellitus with diabetic chronic kidney disease, CKD stage 3a.\n"
    "2. Old myocardial infarction, 2019; no angina since.\n\n"
    "PLAN: Continue metformin, add empagliflozin. Recheck A1c in 3 months."
)


def _spans(*phrases: str) -> list[list[int]]:
    return [[NOTE.index(p), NOTE.index(p) + len(p)] for p in phrases]


EVIDENCE = {
    "E11.22": _spans(
        "Type 2 diabetes mellitus with diabetic chronic kidney disease", "CKD stage 3a"
    ),
    "I25.2": _spans("Old myocardial infarction"),
}


TITLES = {
    "E11.22": "Type 2 diabetes mellitus with diabetic chronic kidney disease",
    "I25.2": "Old myocardial infarction",
}


def review_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    upgrade_schema(engine)
    return engine


def fill_queue(
    engine: sa.Engine, n_items: int, *, workgroup: str = "coding", run_id: str = "run-1"
) -> list[int]:
    rows = [
        {
            "run_id": run_id,
            "note_id": f"N{i:05d}",
            "note_ids": json.dumps([f"N{i:05d}"]),
            "workgroup": workgroup,
            "patient_id": f"p{i % 50}",
            "encounter_id": f"e{i}",
            "note_type": "progress_note",
            "note_date": date(2026, 11, 3),
            "note_text": NOTE,
            "text_hmac": "0" * 64,
            "hcc_impact": round((i % 7) * 0.1, 3),
            "confidence": round(0.5 + (i % 5) / 10, 2),
            "priority": float(i % 13),
            "status": "queued",
            "created_at": utcnow(),
        }
        for i in range(n_items)
    ]
    with engine.begin() as connection:
        ids = (
            connection.execute(
                items.insert().returning(items.c.item_id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        connection.execute(
            suggestions.insert(),
            [
                {
                    "item_id": item_id,
                    "code": code,
                    "description": TITLES[code],
                    "rank": rank,
                    "score": 0.9 - rank / 10,
                    "hccs": json.dumps(["HCC37"] if code.startswith("E11") else []),
                    "hcc_impact": 0.166 if code.startswith("E11") else 0.0,
                    "evidence": json.dumps(EVIDENCE[code]),
                }
                for item_id in ids
                for rank, code in enumerate(EVIDENCE, start=1)
            ],
        )
    return list(ids)


def make_reviewer(
    engine: sa.Engine, name: str, *, role: str = "coder", workgroups=("coding",)
) -> Reviewer:
    add_user(engine, name, PASSWORD, role=role, workgroups=list(workgroups))
    reviewer = authenticate(engine, name, PASSWORD)
    assert reviewer is not None
    return reviewer
