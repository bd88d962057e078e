"""Claims, leases, decisions and submission, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from schemas.review_db import audit_events, decisions, items, suggestions
from tests.transforms.review.helpers import fill_queue, make_reviewer, review_engine
from transforms.review import queue
from transforms.review.queue import (
    ForbiddenError,
    NotHeldError,
    QueueFilter,
    ReviewError,
    SubmitBlockedError,
)

BILLABLE = {"E11.22", "E11.9", "I25.2", "I10", "N18.30"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        yield review_engine(f"sqlite:///{tmp_path / 'review.sqlite'}")
    else:
        yield review_engine(request.getfixturevalue("postgres_url"))


def _suggestion_ids(engine, item_id):
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(suggestions.c.code, suggestions.c.suggestion_id).where(
                suggestions.c.item_id == item_id
            )
        )
        return dict(rows.all())


def test_claim_next_takes_the_highest_priority_and_two_coders_never_share(engine):
    fill_queue(engine, 5)
    ann, bob = make_reviewer(engine, "ann"), make_reviewer(engine, "bob")
    first, second = queue.claim_next(engine, ann), queue.claim_next(engine, bob)
    assert first != second
    with engine.connect() as connection:
        priorities = dict(connection.execute(sa.select(items.c.item_id, items.c.priority)).all())
    assert priorities[first] == max(priorities.values())
    # Claim-next resumes the chart the coder already holds.
    assert queue.claim_next(engine, ann) == first


def test_filters_and_workgroups_limit_what_a_coder_can_claim(engine):
    fill_queue(engine, 3, workgroup="cardiology")
    coder = make_reviewer(engine, "cody", workgroups=("coding",))
    assert queue.claim_next(engine, coder) is None  # another workgroup's charts only
    fill_queue(engine, 10, run_id="run-2")
    picked = queue.claim_next(engine, coder, QueueFilter(min_hcc_impact=0.5))
    with engine.connect() as connection:
        impact = connection.execute(
            sa.select(items.c.hcc_impact).where(items.c.item_id == picked)
        ).scalar_one()
    assert impact >= 0.5


def test_an_expired_lease_returns_the_item_to_the_queue(engine):
    (item_id,) = fill_queue(engine, 1)
    ann, bob = make_reviewer(engine, "ann"), make_reviewer(engine, "bob")
    assert queue.claim_next(engine, ann, lease=timedelta(seconds=-1)) == item_id
    assert queue.claim_next(engine, bob) == item_id  # ann's lease ran out
    with pytest.raises(NotHeldError):
        queue.decide(engine, ann, item_id, action="accept", suggestion_id=1)


def test_a_decision_on_an_item_the_coder_does_not_hold_is_refused(engine):
    (item_id,) = fill_queue(engine, 1)
    ann, bob = make_reviewer(engine, "ann"), make_reviewer(engine, "bob")
    queue.claim_next(engine, ann)
    ids = _suggestion_ids(engine, item_id)
    with pytest.raises(NotHeldError):
        queue.decide(engine, bob, item_id, action="accept", suggestion_id=ids["E11.22"])
    with pytest.raises(NotHeldError):
        queue.submit(engine, bob, item_id)
    other = make_reviewer(engine, "otto", workgroups=("cardiology",))
    with pytest.raises(ForbiddenError):
        queue.open_chart(engine, other, item_id)
    with pytest.raises(ForbiddenError):  # same workgroup, but ann holds it
        queue.open_chart(engine, bob, item_id)


def test_decisions_need_reasons_and_pending_codes_block_submit(engine):
    (item_id,) = fill_queue(engine, 1)
    ann = make_reviewer(engine, "ann")
    queue.claim_next(engine, ann)
    assert queue.open_chart(engine, ann, item_id).held  # a view, audited
    ids = _suggestion_ids(engine, item_id)
    with pytest.raises(ReviewError, match="needs a reason"):
        queue.decide(engine, ann, item_id, action="reject", suggestion_id=ids["I25.2"])
    with pytest.raises(ReviewError, match="comment"):
        queue.decide(
            engine, ann, item_id, action="reject", suggestion_id=ids["I25.2"], reason_code="other"
        )
    queue.decide(engine, ann, item_id, action="accept", suggestion_id=ids["E11.22"])
    with pytest.raises(SubmitBlockedError, match="I25.2"):
        queue.submit(engine, ann, item_id)
    queue.decide(
        engine, ann, item_id, action="reject", suggestion_id=ids["I25.2"], reason_code="historical"
    )
    with pytest.raises(ReviewError, match="not a billable"):
        queue.decide(
            engine, ann, item_id, action="add", code="E11", reason_code="missed_by_engine",
            billable=BILLABLE,
        )  # fmt: skip
    queue.decide(
        engine, ann, item_id, action="add", code="n18.30", reason_code="missed_by_engine",
        billable=BILLABLE,
    )  # fmt: skip
    assert queue.submit(engine, ann, item_id) == {"accept": 1, "reject": 1, "add": 1}
    with engine.connect() as connection:
        status = connection.execute(
            sa.select(items.c.status).where(items.c.item_id == item_id)
        ).scalar_one()
        codes = connection.execute(
            sa.select(decisions.c.action, decisions.c.code).order_by(decisions.c.decision_id)
        ).all()
        events = (
            connection.execute(
                sa.select(audit_events.c.action).where(audit_events.c.item_id == item_id)
            )
            .scalars()
            .all()
        )
    assert status == "submitted"
    assert codes == [("accept", "E11.22"), ("reject", None), ("add", "N18.30")]
    assert events[0] == "claim" and events[-1] == "submit" and "view_item" in events
    with pytest.raises(NotHeldError):  # submitted: nothing changes it any more
        queue.decide(engine, ann, item_id, action="accept", suggestion_id=ids["I25.2"])


def test_the_audit_table_refuses_updates_and_deletes(engine):
    make_reviewer(engine, "ann")
    for statement in ("UPDATE review_audit SET action = 'x'", "DELETE FROM review_audit"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as c:
            c.execute(sa.text(statement))
