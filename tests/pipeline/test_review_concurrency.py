"""8 coder processes work 2,000 items on the real PostgreSQL: every item is
submitted exactly once, by the one coder who held it, and no decision is lost."""

from __future__ import annotations

import multiprocessing

import pytest
import sqlalchemy as sa

from schemas.review_db import audit_events, decisions, items
from tests.transforms.review.helpers import PASSWORD, fill_queue, make_reviewer, review_engine
from transforms.review import queue
from transforms.review.users import authenticate

CODERS, ITEMS = 8, 2000


def work_until_empty(url: str, username: str) -> list[int]:
    """One coder: claim, accept every code, submit, until the queue is empty."""
    engine = sa.create_engine(url, pool_size=1)
    coder = authenticate(engine, username, PASSWORD)
    done = []
    while (item_id := queue.claim_next(engine, coder)) is not None:
        with engine.connect() as connection:
            ids = connection.execute(
                sa.text("SELECT suggestion_id FROM review_suggestions WHERE item_id = :i"),
                {"i": item_id},
            ).scalars()
        for suggestion_id in list(ids):
            queue.decide(engine, coder, item_id, action="accept", suggestion_id=suggestion_id)
        queue.submit(engine, coder, item_id)
        done.append(item_id)
    engine.dispose()
    return done


@pytest.mark.postgres
def test_eight_coders_decide_every_item_exactly_once(postgres_url):
    engine = review_engine(postgres_url)
    fill_queue(engine, ITEMS)
    names = [f"coder{i}" for i in range(CODERS)]
    for name in names:
        make_reviewer(engine, name)
    with multiprocessing.get_context("spawn").Pool(CODERS) as pool:
        per_coder = pool.starmap(work_until_empty, [(postgres_url, n) for n in names])
    submitted = [item for done in per_coder for item in done]
    assert len(submitted) == ITEMS and len(set(submitted)) == ITEMS
    assert sum(1 for done in per_coder if done) > 1  # the coders did work side by side
    with engine.connect() as connection:
        statuses = dict(
            connection.execute(
                sa.select(items.c.status, sa.func.count()).group_by(items.c.status)
            ).all()
        )
        decided = connection.execute(sa.select(sa.func.count()).select_from(decisions)).scalar()
        submits = connection.execute(
            sa.select(audit_events.c.item_id, audit_events.c.user_id).where(
                audit_events.c.action == "submit"
            )
        ).all()
        claims_by_item = dict(
            connection.execute(
                sa.select(audit_events.c.item_id, sa.func.count())
                .where(audit_events.c.action == "claim")
                .group_by(audit_events.c.item_id)
            ).all()
        )
        wrong_hands = connection.execute(
            sa.text(
                "SELECT count(*) FROM review_decisions d JOIN review_items i USING (item_id) "
                "WHERE d.user_id <> i.submitted_by"
            )
        ).scalar()
    assert statuses == {"submitted": ITEMS}
    assert decided == 2 * ITEMS  # two suggestions an item, each decided once
    assert len(submits) == ITEMS and len({item for item, _ in submits}) == ITEMS
    assert set(claims_by_item.values()) == {1}  # no item was ever claimed twice
    assert wrong_hands == 0
