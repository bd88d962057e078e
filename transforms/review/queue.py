"""The review queue's rules: who may see an item, claiming with a lease, decisions
and submission. Plain functions over a SQLAlchemy engine; the web app and the
CLI call them and nothing else writes the queue.

Claiming first returns lapsed leases to the queue, then is one UPDATE of the
row a sub-select picks from the queue index. On PostgreSQL the
sub-select takes ``FOR UPDATE SKIP LOCKED``, so concurrent coders pick different
rows without waiting; SQLite renders no row locks, but it runs the whole
statement under its database write lock, which is as safe (one claim at a time).
Either way the UPDATE re-checks that the row is still free, so two coders never
hold one item.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from schemas.review_db import ACTIONS, audit_events, decisions, items, suggestions

DEFAULT_LEASE = timedelta(minutes=30)

# Why a coder rejects, edits or adds a code: the reasons a scorecard can count.
REASONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "not_documented": ("Not documented in the note", ("reject",)),
    "negated": ("Negated or ruled out", ("reject",)),
    "historical": ("History only, not current", ("reject", "edit")),
    "family_history": ("Family member's condition", ("reject",)),
    "uncertain": ("Uncertain diagnosis (outpatient rule)", ("reject",)),
    "duplicate": ("Duplicate of another code", ("reject",)),
    "more_specific": ("A more specific code applies", ("edit",)),
    "wrong_code": ("Wrong code for the condition", ("reject", "edit")),
    "missed_by_engine": ("Documented, not suggested", ("add",)),
    "other": ("Other (comment required)", ("reject", "edit", "add")),
}


class ReviewError(Exception):
    """A request the queue refuses; the message says why (never note text)."""

    status = 400


class NotFoundError(ReviewError):
    status = 404


class ForbiddenError(ReviewError):
    status = 403


class NotHeldError(ReviewError):
    """A change to an item the user does not hold (another's claim, or a lapsed lease)."""

    status = 409


class SubmitBlockedError(ReviewError):
    status = 409


@dataclass(frozen=True)
class Reviewer:
    user_id: int
    username: str
    role: str  # coder | lead | admin
    workgroups: tuple[str, ...]

    def may_see_workgroup(self, workgroup: str) -> bool:
        return self.role == "admin" or workgroup in self.workgroups


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def lease_lapsed(row: sa.Row, at: datetime) -> bool:
    """Whether the item's lease has run out (an item without a lease has none to lapse)."""
    return (as_utc(row.lease_expires_at) or at) < at


def record_event(
    connection: sa.Connection,
    action: str,
    *,
    reviewer: Reviewer | None = None,
    username: str | None = None,
    item_id: int | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    """One row of the append-only audit table: ids, codes and counts only."""
    connection.execute(
        audit_events.insert().values(
            at=at or utcnow(),
            user_id=reviewer.user_id if reviewer else None,
            username=reviewer.username if reviewer else username,
            item_id=item_id,
            action=action,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )


@dataclass(frozen=True)
class QueueFilter:
    workgroup: str | None = None
    min_hcc_impact: float | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None


def requeue_lapsed(connection: sa.Connection, at: datetime) -> None:
    """Return items whose lease ran out to the queue (their draft decisions kept),
    so that finding a free item is one walk of the queue index."""
    lapsed = (
        connection.execute(
            items.update()
            .where(items.c.status == "claimed", items.c.lease_expires_at < at)
            .values(status="queued", claimed_by=None, lease_expires_at=None)
            .returning(items.c.item_id)
        )
        .scalars()
        .all()
    )
    for item_id in lapsed:
        record_event(connection, "lease_expired", item_id=item_id, at=at)


def _filtered(query: sa.Select, reviewer: Reviewer, wanted: QueueFilter) -> sa.Select:
    if reviewer.role != "admin":
        query = query.where(items.c.workgroup.in_(reviewer.workgroups))
    if wanted.workgroup:
        query = query.where(items.c.workgroup == wanted.workgroup)
    if wanted.min_hcc_impact is not None:
        query = query.where(items.c.hcc_impact >= wanted.min_hcc_impact)
    if wanted.min_confidence is not None:
        query = query.where(items.c.confidence >= wanted.min_confidence)
    if wanted.max_confidence is not None:
        query = query.where(items.c.confidence <= wanted.max_confidence)
    return query


def held_item(connection: sa.Connection, reviewer: Reviewer, at: datetime) -> int | None:
    """The item the reviewer holds now, if any: claim-next resumes it first."""
    return connection.execute(
        sa.select(items.c.item_id)
        .where(
            items.c.status == "claimed",
            items.c.claimed_by == reviewer.user_id,
            items.c.lease_expires_at >= at,
        )
        .order_by(items.c.item_id)
        .limit(1)
    ).scalar()


def claim_next(
    engine: sa.Engine,
    reviewer: Reviewer,
    wanted: QueueFilter = QueueFilter(),
    *,
    lease: timedelta = DEFAULT_LEASE,
) -> int | None:
    """Claim the highest-priority free item the reviewer may work; None when none is left."""
    with engine.begin() as connection:
        at = utcnow()
        held = held_item(connection, reviewer, at)
        if held is not None:
            return held
        requeue_lapsed(connection, at)
        pick = (
            _filtered(
                sa.select(items.c.item_id).where(items.c.status == "queued"), reviewer, wanted
            )
            .order_by(items.c.priority.desc(), items.c.item_id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        claimed = connection.execute(
            items.update()
            .where(items.c.item_id == pick, items.c.status == "queued")
            .values(status="claimed", claimed_by=reviewer.user_id, lease_expires_at=at + lease)
            .returning(items.c.item_id)
        ).scalar()
        if claimed is not None:
            record_event(connection, "claim", reviewer=reviewer, item_id=claimed, at=at)
        return claimed


def _locked_item(connection: sa.Connection, item_id: int) -> sa.Row:
    row = connection.execute(
        sa.select(items).where(items.c.item_id == item_id).with_for_update()
    ).first()
    if row is None:
        raise NotFoundError(f"item {item_id} does not exist")
    return row


def _hold(connection: sa.Connection, reviewer: Reviewer, item_id: int, lease: timedelta) -> sa.Row:
    """The item, locked, if the reviewer holds it; its lease renewed."""
    at = utcnow()
    row = _locked_item(connection, item_id)
    if not reviewer.may_see_workgroup(row.workgroup):
        raise ForbiddenError(f"item {item_id} belongs to another workgroup")
    lapsed = lease_lapsed(row, at)
    if row.status != "claimed" or row.claimed_by != reviewer.user_id or lapsed:
        raise NotHeldError(f"item {item_id} is not claimed by {reviewer.username}")
    connection.execute(
        items.update().where(items.c.item_id == item_id).values(lease_expires_at=at + lease)
    )
    return row


def release(
    engine: sa.Engine, reviewer: Reviewer, item_id: int, *, lease: timedelta = DEFAULT_LEASE
) -> None:
    """Give a claimed item back to the queue, its draft decisions kept."""
    with engine.begin() as connection:
        _hold(connection, reviewer, item_id, lease)
        connection.execute(
            items.update()
            .where(items.c.item_id == item_id)
            .values(status="queued", claimed_by=None, lease_expires_at=None)
        )
        record_event(connection, "release", reviewer=reviewer, item_id=item_id)


def _check_reason(action: str, reason_code: str | None, comment: str | None) -> None:
    if action == "accept":
        return
    if not reason_code:
        raise ReviewError(f"a decision to {action} needs a reason")
    if reason_code not in REASONS or action not in REASONS[reason_code][1]:
        raise ReviewError(f"reason {reason_code!r} does not apply to {action}")
    if reason_code == "other" and not (comment or "").strip():
        raise ReviewError("the reason 'other' needs a comment")


def decide(
    engine: sa.Engine,
    reviewer: Reviewer,
    item_id: int,
    *,
    action: str,
    suggestion_id: int | None = None,
    code: str | None = None,
    reason_code: str | None = None,
    comment: str | None = None,
    billable: frozenset[str] | set[str] | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> int:
    """Record (or replace) the reviewer's decision on a suggestion, or add a code.
    Decisions stay drafts until the item is submitted."""
    if action not in ACTIONS:
        raise ReviewError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    _check_reason(action, reason_code, comment)
    with engine.begin() as connection:
        _hold(connection, reviewer, item_id, lease)
        suggested = None
        if action == "add":
            if suggestion_id is not None:
                raise ReviewError("an added code is not a decision on a suggestion")
        else:
            suggested = connection.execute(
                sa.select(suggestions).where(
                    suggestions.c.suggestion_id == suggestion_id,
                    suggestions.c.item_id == item_id,
                )
            ).first()
            if suggested is None:
                raise NotFoundError(f"item {item_id} has no suggestion {suggestion_id}")
        final = _final_code(action, code, suggested, billable)
        if action == "add" and _code_stands(connection, item_id, final):
            raise ReviewError(f"{final} is already on item {item_id}")
        if suggestion_id is not None:
            connection.execute(
                decisions.delete().where(
                    decisions.c.item_id == item_id, decisions.c.suggestion_id == suggestion_id
                )
            )
        decision_id = connection.execute(
            decisions.insert()
            .values(
                item_id=item_id,
                suggestion_id=suggestion_id,
                action=action,
                code=final,
                reason_code=reason_code,
                comment=(comment or "").strip() or None,
                user_id=reviewer.user_id,
                decided_at=utcnow(),
            )
            .returning(decisions.c.decision_id)
        ).scalar_one()
        record_event(
            connection,
            "decide",
            reviewer=reviewer,
            item_id=item_id,
            decision=action,
            suggested=suggested.code if suggested is not None else None,
            code=final,
            reason=reason_code,
        )
        return decision_id


def _final_code(
    action: str,
    code: str | None,
    suggested: sa.Row | None,
    billable: frozenset[str] | set[str] | None,
) -> str | None:
    if action == "reject":
        return None
    if action == "accept":
        return suggested.code if suggested is not None else None
    code = (code or "").strip().upper()
    if not code:
        raise ReviewError(f"a decision to {action} needs the code")
    if billable is not None and code not in billable:
        raise ReviewError(f"{code} is not a billable ICD-10-CM code")
    if action == "edit" and suggested is not None and code == suggested.code:
        raise ReviewError(f"editing {code} to itself: accept it instead")
    return code


def _code_stands(connection: sa.Connection, item_id: int, code: str | None) -> bool:
    return (
        connection.execute(
            sa.select(sa.func.count())
            .select_from(decisions)
            .where(decisions.c.item_id == item_id, decisions.c.code == code)
        ).scalar_one()
        > 0
    )


def withdraw(
    engine: sa.Engine,
    reviewer: Reviewer,
    item_id: int,
    decision_id: int,
    *,
    lease: timedelta = DEFAULT_LEASE,
) -> None:
    """Take back a draft decision (an added code, or a decision to redo)."""
    with engine.begin() as connection:
        _hold(connection, reviewer, item_id, lease)
        removed = connection.execute(
            decisions.delete().where(
                decisions.c.item_id == item_id, decisions.c.decision_id == decision_id
            )
        ).rowcount
        if not removed:
            raise NotFoundError(f"item {item_id} has no decision {decision_id}")
        record_event(
            connection, "withdraw", reviewer=reviewer, item_id=item_id, decision=decision_id
        )


def pending_suggestions(connection: sa.Connection, item_id: int) -> list[str]:
    """The codes of the item's suggestions that have no decision yet."""
    decided = sa.select(decisions.c.suggestion_id).where(
        decisions.c.item_id == item_id, decisions.c.suggestion_id.is_not(None)
    )
    return list(
        connection.execute(
            sa.select(suggestions.c.code)
            .where(suggestions.c.item_id == item_id, suggestions.c.suggestion_id.not_in(decided))
            .order_by(suggestions.c.rank)
        ).scalars()
    )


def submit(
    engine: sa.Engine, reviewer: Reviewer, item_id: int, *, lease: timedelta = DEFAULT_LEASE
) -> dict[str, int]:
    """Close the item: every suggestion must have a decision (with its reason)."""
    with engine.begin() as connection:
        _hold(connection, reviewer, item_id, lease)
        pending = pending_suggestions(connection, item_id)
        if pending:
            raise SubmitBlockedError(
                f"item {item_id} has {len(pending)} code(s) without a decision: "
                + ", ".join(pending)
            )
        counts = dict(
            connection.execute(
                sa.select(decisions.c.action, sa.func.count())
                .where(decisions.c.item_id == item_id)
                .group_by(decisions.c.action)
            ).all()
        )
        at = utcnow()
        connection.execute(
            items.update()
            .where(items.c.item_id == item_id)
            .values(
                status="submitted",
                submitted_at=at,
                submitted_by=reviewer.user_id,
                lease_expires_at=None,
            )
        )
        record_event(connection, "submit", reviewer=reviewer, item_id=item_id, at=at, **counts)
        return counts


@dataclass(frozen=True)
class Chart:
    """What the chart page shows: the item, its codes, decisions and history."""

    item: sa.Row
    suggestions: Sequence[sa.Row]
    decisions: Sequence[sa.Row]
    history: Sequence[sa.Row]
    held: bool


def open_chart(engine: sa.Engine, reviewer: Reviewer, item_id: int) -> Chart:
    """The item, if the reviewer may see it; every view is audited. A coder sees the
    items they hold or submitted; a lead every item of their workgroups."""
    with engine.begin() as connection:
        row = connection.execute(sa.select(items).where(items.c.item_id == item_id)).first()
        if row is None:
            raise NotFoundError(f"item {item_id} does not exist")
        if not reviewer.may_see_workgroup(row.workgroup):
            raise ForbiddenError(f"item {item_id} belongs to another workgroup")
        at = utcnow()
        held = (
            row.status == "claimed"
            and row.claimed_by == reviewer.user_id
            and not lease_lapsed(row, at)
        )
        own = held or row.submitted_by == reviewer.user_id
        if reviewer.role == "coder" and not own:
            raise ForbiddenError(f"item {item_id} is not claimed by {reviewer.username}")
        record_event(connection, "view_item", reviewer=reviewer, item_id=item_id)
        return Chart(
            item=row,
            suggestions=connection.execute(
                sa.select(suggestions)
                .where(suggestions.c.item_id == item_id)
                .order_by(suggestions.c.rank)
            ).all(),
            decisions=connection.execute(
                sa.select(decisions)
                .where(decisions.c.item_id == item_id)
                .order_by(decisions.c.decision_id)
            ).all(),
            history=connection.execute(
                sa.select(audit_events)
                .where(audit_events.c.item_id == item_id)
                .order_by(audit_events.c.event_id)
            ).all(),
            held=held,
        )


def list_queue(
    engine: sa.Engine, reviewer: Reviewer, wanted: QueueFilter = QueueFilter(), *, limit: int = 50
) -> list[sa.Row]:
    """Free items the reviewer may claim, highest priority first (no note text)."""
    columns = [c for c in items.c if c.name != "note_text"]
    with engine.begin() as connection:
        requeue_lapsed(connection, utcnow())
        query = _filtered(sa.select(*columns).where(items.c.status == "queued"), reviewer, wanted)
        return connection.execute(
            query.order_by(items.c.priority.desc(), items.c.item_id).limit(limit)
        ).all()


def queue_counts(engine: sa.Engine, reviewer: Reviewer) -> dict[str, int]:
    with engine.connect() as connection:
        query = _filtered(
            sa.select(items.c.status, sa.func.count()).group_by(items.c.status),
            reviewer,
            QueueFilter(),
        )
        return dict(connection.execute(query).all())
