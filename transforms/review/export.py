"""The codes coders approved: accepted, edited-to and added codes of submitted
items, for Parquet and for the diagnoses input of ``deidcode hcc score``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from schemas.review_db import decisions, items, suggestions, users


def approved_codes(engine: sa.Engine) -> list[dict[str, Any]]:
    """One row per code that stands after review, in item then decision order."""
    query = (
        sa.select(
            items.c.item_id, items.c.run_id, items.c.note_id, items.c.patient_id,
            items.c.encounter_id, items.c.note_type, items.c.note_date, items.c.submitted_at,
            decisions.c.code, decisions.c.action, suggestions.c.code.label("suggested_code"),
            decisions.c.reason_code, users.c.username.label("coder"), decisions.c.decided_at,
        )
        .select_from(
            decisions.join(items, decisions.c.item_id == items.c.item_id)
            .outerjoin(suggestions, decisions.c.suggestion_id == suggestions.c.suggestion_id)
            .join(users, decisions.c.user_id == users.c.user_id)
        )
        .where(items.c.status == "submitted", decisions.c.action != "reject")
        .order_by(items.c.item_id, decisions.c.decision_id)
    )  # fmt: skip
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def diagnosis_rows(
    codes: list[dict[str, Any]],
    *,
    source_map: Mapping[str, str],
    default_source: str | None,
    crosswalk: Mapping[str, str] | None,
) -> list[list[str]]:
    """``hcc score`` diagnosis rows (member_id, code, date_of_service, encounter_id,
    source), keyed like ``--from-run``: the crosswalk's member, else the pseudonym."""
    rows = []
    for row in codes:
        patient = row["patient_id"] or ""
        member = crosswalk.get(patient, "") if crosswalk else patient
        note_type = row["note_type"] or ""
        source = source_map.get(note_type) or default_source or note_type
        service = row["note_date"].isoformat() if row["note_date"] else ""
        rows.append([member, row["code"], service, row["encounter_id"] or "", source])
    return rows
