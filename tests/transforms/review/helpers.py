"""A review database filled with made-up items (no real text), for queue tests."""

from __future__ import annotations

import json

import sqlalchemy as sa

from schemas.review_db import items, suggestions, upgrade_schema
from transforms.review.queue import Reviewer, utcnow
from transforms.review.users import add_user, authenticate

PASSWORD = "a long enough password"
NOTE = "Pt with type 2 diabetes and CKD stage 3. No chest pain. Hx of MI."
EVIDENCE = {"E11.22": [[8, 23], [28, 39]], "I25.2": [[58, 63]]}


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
            "workgroup": workgroup,
            "patient_id": f"p{i % 50}",
            "encounter_id": f"e{i}",
            "note_type": "progress_note",
            "note_date": None,
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
                    "description": code,
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
