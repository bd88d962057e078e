"""The scorecard: coder throughput, and the engine's precision and recall as the
coders' decisions on submitted items imply them.

- Items per hour: a coder's submitted items over the hours they held them
  (each item from its last claim to its submit), so idle time between charts
  does not count against anyone.
- Acceptance rate per code and per HCC: accepted suggestions over decided ones.
- Engine precision: accepted suggestions over all suggestions decided. Engine
  recall: accepted suggestions over the codes that stand after review
  (accepted, edited-to and added), i.e. the share of the final coding the
  engine suggested exactly.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa

from schemas.review_db import audit_events, decisions, items, suggestions, users
from transforms.review.queue import as_utc


@dataclass(frozen=True)
class Rate:
    accepted: int
    decided: int

    @property
    def rate(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass
class Scorecard:
    coders: list[dict] = field(default_factory=list)
    codes: dict[str, Rate] = field(default_factory=dict)
    hccs: dict[str, Rate] = field(default_factory=dict)
    precision: float | None = None
    recall: float | None = None
    submitted_items: int = 0
    decisions_by_action: dict[str, int] = field(default_factory=dict)


def build_scorecard(engine: sa.Engine, *, workgroups: tuple[str, ...] | None = None) -> Scorecard:
    """Over submitted items (of ``workgroups``; all for None)."""
    card = Scorecard()
    submitted = sa.select(items.c.item_id).where(items.c.status == "submitted")
    if workgroups is not None:
        submitted = submitted.where(items.c.workgroup.in_(workgroups))
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(decisions.c.action, suggestions.c.code, suggestions.c.hccs)
            .select_from(decisions.outerjoin(suggestions))
            .where(decisions.c.item_id.in_(submitted))
        ).all()
        card.coders = _coder_rows(connection, submitted)
        card.submitted_items = sum(row["items"] for row in card.coders)
    by_code: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_hcc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    actions: dict[str, int] = defaultdict(int)
    for action, code, hccs in rows:
        actions[action] += 1
        if code is None:  # an added code: no suggestion to rate
            continue
        accepted = int(action == "accept")
        by_code[code][0] += accepted
        by_code[code][1] += 1
        for label in json.loads(hccs):
            by_hcc[label][0] += accepted
            by_hcc[label][1] += 1
    card.codes = {c: Rate(*v) for c, v in sorted(by_code.items())}
    card.hccs = {h: Rate(*v) for h, v in sorted(by_hcc.items())}
    card.decisions_by_action = dict(sorted(actions.items()))
    accepted = actions.get("accept", 0)
    decided = accepted + actions.get("reject", 0) + actions.get("edit", 0)
    standing = accepted + actions.get("edit", 0) + actions.get("add", 0)
    card.precision = accepted / decided if decided else None
    card.recall = accepted / standing if standing else None
    return card


def _coder_rows(connection: sa.Connection, submitted: sa.Select) -> list[dict]:
    events = connection.execute(
        sa.select(audit_events.c.user_id, audit_events.c.item_id, audit_events.c.action,
                  audit_events.c.at)
        .where(
            audit_events.c.item_id.in_(submitted),
            audit_events.c.action.in_(("claim", "submit")),
        )
        .order_by(audit_events.c.event_id)
    ).all()  # fmt: skip
    names = dict(connection.execute(sa.select(users.c.user_id, users.c.username)).all())
    claimed_at: dict[tuple[int, int], object] = {}
    held_seconds: dict[int, float] = defaultdict(float)
    count: dict[int, int] = defaultdict(int)
    for user_id, item_id, action, at in events:
        if action == "claim":
            claimed_at[(user_id, item_id)] = as_utc(at)
        elif (user_id, item_id) in claimed_at:
            held_seconds[user_id] += (
                as_utc(at) - claimed_at.pop((user_id, item_id))
            ).total_seconds()
            count[user_id] += 1
    rows = []
    for user_id in sorted(count, key=lambda u: names.get(u, "")):
        hours = max(held_seconds[user_id], 1.0) / 3600
        rows.append(
            {
                "coder": names.get(user_id, str(user_id)),
                "items": count[user_id],
                "hours_held": round(hours, 3),
                "items_per_hour": round(count[user_id] / hours, 1),
            }
        )
    return rows
