"""Filling the queue from a finished run: one work item per note with suggested
codes (or per encounter, its notes together), with the original text from the
export.

The release holds no original text, so the text coders read comes from the
export the run read, matched by note id and checked against the run's keyed
audit digest (``audit.text_hmac``): a note whose text differs (the export was
changed since, or is another one) is quarantined in the queue without text.
Loading a run again adds nothing; a newer run's item replaces an older one
only while nobody has claimed it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from schemas.review_db import items, suggestions
from transforms.core.keyed import RunKeys, keyed_text_digest
from transforms.hcc.tables import PaymentYear
from transforms.review.queue import lease_lapsed, record_event, utcnow

BATCH_NOTES = 1000
ITEM_UNITS = ("note", "encounter")


@dataclass(frozen=True)
class RunCodes:
    """What a run says about its coded notes (read from its tables by the caller)."""

    run_id: str
    codes: Mapping[str, list[dict[str, Any]]]  # note_id -> suggested codes, by rank
    notes: Mapping[str, dict[str, Any]]  # note_id -> patient_id, encounter_id, type, date
    digests: Mapping[str, str]  # note_id -> audit text_hmac
    key_fingerprint: str | None = None  # the run manifest's: which key keyed the digests


@dataclass
class LoadSummary:
    run_id: str
    items_added: int = 0
    suggestions_added: int = 0
    already_loaded: int = 0
    superseded: int = 0
    kept_claimed: int = 0  # a claimed or submitted item of an older run stands
    newer_in_queue: int = 0  # the queue holds the note from a newer run
    quarantined: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def hcc_labels(code: str, year: PaymentYear, model: str = "V28") -> list[tuple[str, float]]:
    """The HCCs a code maps to under ``model`` with the community, non-dual, aged
    coefficient: what accepting it could add to a typical member's RAF."""
    tables = year.models.get(model) or next(iter(year.models.values()))
    found = []
    for cc in tables.dx_to_cc.get(code.replace(".", ""), ()):
        label = f"HCC{cc}"
        found.append((label, tables.coefficients.get(f"CNA_{label}", 0.0)))
    return sorted(found)


def work_units(run: RunCodes, per: str = "note") -> dict[str, list[str]]:
    """Item key -> the notes it holds, in reading order. Per note, the key is the
    note id; per encounter, ``encounter:`` and the run's encounter pseudonym (a
    note without an encounter stays an item of its own)."""
    if per not in ITEM_UNITS:
        raise ValueError(f"items are per {' or per '.join(ITEM_UNITS)}, not per {per}")
    units: dict[str, list[str]] = {}
    for note_id in sorted(run.codes):
        encounter = run.notes.get(note_id, {}).get("encounter_id")
        key = f"encounter:{encounter}" if per == "encounter" and encounter else note_id
        units.setdefault(key, []).append(note_id)
    for notes in units.values():
        notes.sort(key=lambda n: (str(run.notes.get(n, {}).get("note_date") or ""), n))
    return units


def load_run(
    engine: sa.Engine,
    run: RunCodes,
    texts: Iterable[tuple[str, str]],
    keys: RunKeys,
    *,
    year: PaymentYear,
    workgroup_for: Callable[[str | None], str],
    per: str = "note",
) -> LoadSummary:
    """Queue ``run``'s coded notes, one item per note or per encounter, with their
    text from ``texts`` (note_id, text)."""
    summary = LoadSummary(run.run_id)
    units = work_units(run, per)
    found: dict[str, str] = {}
    for note_id, text in texts:
        if note_id in run.codes:
            found[note_id] = text
    keys_in_order = sorted(units)
    for start in range(0, len(keys_in_order), BATCH_NOTES):
        batch = {key: units[key] for key in keys_in_order[start : start + BATCH_NOTES]}
        with engine.begin() as connection:
            _load_batch(connection, run, batch, found, keys, year, workgroup_for, summary)
    with engine.begin() as connection:
        record_event(connection, "load", per=per, **summary.as_dict())
        if summary.items_added:
            # Fresh planner statistics: without them, right after a large load the
            # planner may sort the whole queue for every claim instead of walking
            # the queue index (75 ms against 4 ms at 100,000 items).
            for table in ("review_items", "review_suggestions"):
                connection.execute(sa.text(f"ANALYZE {table}"))
    return summary


def _load_batch(
    connection: sa.Connection,
    run: RunCodes,
    batch: Mapping[str, list[str]],
    found: Mapping[str, str],
    keys: RunKeys,
    year: PaymentYear,
    workgroup_for: Callable[[str | None], str],
    summary: LoadSummary,
) -> None:
    at = utcnow()
    existing: dict[str, list[sa.Row]] = {}
    for row in connection.execute(
        sa.select(
            items.c.item_id, items.c.note_id, items.c.run_id, items.c.status,
            items.c.lease_expires_at,
        ).where(items.c.note_id.in_(list(batch)), items.c.status != "superseded")
    ):  # fmt: skip
        existing.setdefault(row.note_id, []).append(row)
    new_items: list[dict[str, Any]] = []
    pending: dict[str, list[dict[str, Any]]] = {}
    for key, note_ids in batch.items():
        rows = existing.get(key, [])
        if any(r.run_id == run.run_id for r in rows):
            summary.already_loaded += 1
            continue
        if any(r.run_id > run.run_id for r in rows):  # run ids sort by start time
            summary.newer_in_queue += 1
            continue
        free = [r for r in rows if _is_unclaimed(r, at)]
        if len(free) < len(rows):
            summary.kept_claimed += 1
            continue
        if free:
            connection.execute(
                items.update()
                .where(items.c.item_id.in_([r.item_id for r in free]))
                .values(status="superseded", reason=f"superseded_by:{run.run_id}")
            )
            summary.superseded += len(free)
        item, codes = _item_row(run, key, note_ids, found, keys, year, workgroup_for, at)
        if item["status"] == "quarantined":
            summary.quarantined[item["reason"]] = summary.quarantined.get(item["reason"], 0) + 1
        new_items.append(item)
        pending[key] = codes
    if not new_items:
        return
    inserted = connection.execute(
        items.insert().returning(items.c.item_id, items.c.note_id, sort_by_parameter_order=True),
        new_items,
    ).all()
    rows = [{"item_id": item_id, **code} for item_id, key in inserted for code in pending[key]]
    if rows:
        connection.execute(suggestions.insert(), rows)
    summary.items_added += len(inserted)
    summary.suggestions_added += len(rows)


def _is_unclaimed(row: sa.Row, at) -> bool:
    if row.status == "queued":
        return True
    return row.status == "claimed" and lease_lapsed(row, at)


def _note_header(note_id: str, note: Mapping[str, Any]) -> str:
    return f"=== {note_id} · {note.get('note_type') or 'note'} · {note.get('note_date') or ''}\n"


def _item_row(
    run: RunCodes,
    key: str,
    note_ids: list[str],
    found: Mapping[str, str],
    keys: RunKeys,
    year: PaymentYear,
    workgroup_for: Callable[[str | None], str],
    at,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One item's row and suggestions. Several notes are read one after another,
    each under a header line, and their codes' evidence moves with them; a code
    suggested in two notes is one suggestion with the evidence of both."""
    reason = None
    parts: list[str] = []
    merged: dict[str, dict[str, Any]] = {}
    offset = 0
    for note_id in note_ids:
        text = found.get(note_id)
        if text is None:
            reason = reason or "not_in_export"
            text = ""
        elif keyed_text_digest(keys, text) != run.digests.get(note_id):
            reason = reason or "text_mismatch"
        header = _note_header(note_id, run.notes.get(note_id, {})) if len(note_ids) > 1 else ""
        offset += len(header)
        for code in run.codes[note_id]:
            spans = [[e["start"] + offset, e["end"] + offset] for e in code["evidence"]]
            if code["code"] in merged:
                kept = merged[code["code"]]
                kept["score"] = max(kept["score"], code["score"])
                kept["spans"] += spans
            else:
                merged[code["code"]] = {**code, "spans": spans}
        parts.append(header + text + ("\n\n" if len(note_ids) > 1 else ""))
        offset += len(text) + (2 if len(note_ids) > 1 else 0)
    codes = []
    by_hcc: dict[str, float] = {}
    ranked = sorted(merged.values(), key=lambda c: (-c["score"], c["code"]))
    for rank, code in enumerate(ranked, start=1):
        hccs = hcc_labels(code["code"], year)
        for label, coefficient in hccs:
            # Each HCC counts once, at its largest coefficient among the item's codes.
            by_hcc[label] = max(by_hcc.get(label, 0.0), coefficient)
        codes.append(
            {
                "code": code["code"],
                "description": code["description"],
                "rank": rank if len(note_ids) > 1 else code["rank"],
                "score": code["score"],
                "hccs": json.dumps([label for label, _ in hccs]),
                "hcc_impact": round(max((c for _, c in hccs), default=0.0), 4),
                "evidence": json.dumps(code["spans"]),
            }
        )
    impact = round(sum(by_hcc.values()), 4)
    confidence = max((c["score"] for c in codes), default=0.0)
    first = run.notes.get(note_ids[0], {})
    types = {run.notes.get(n, {}).get("note_type") for n in note_ids}
    item = {
        "run_id": run.run_id,
        "note_id": key,
        "note_ids": json.dumps(note_ids),
        "workgroup": workgroup_for(first.get("note_type")),
        "patient_id": first.get("patient_id"),
        "encounter_id": first.get("encounter_id"),
        "note_type": types.pop() if len(types) == 1 else "encounter",
        "note_date": first.get("note_date"),
        "note_text": None if reason else "".join(parts),
        "text_hmac": run.digests.get(note_ids[0]) if len(note_ids) == 1 else None,
        "hcc_impact": impact,
        "confidence": confidence,
        # HCC-bearing charts first, the most certain first among them.
        "priority": round(impact * 10 + confidence, 6),
        "status": "quarantined" if reason else "queued",
        "reason": reason,
        "created_at": at,
    }
    return item, codes
