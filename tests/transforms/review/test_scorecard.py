"""The scorecard's figures, worked out by hand for a small set of decisions."""

import pytest

from tests.transforms.review.helpers import fill_queue, make_reviewer, review_engine
from transforms.review import queue
from transforms.review.scorecard import build_scorecard

BILLABLE = {"E11.21", "N18.31", "I10"}


def _work(engine, coder, plan):
    item_id = queue.claim_next(engine, coder)
    ids = {s.code: s.suggestion_id for s in queue.open_chart(engine, coder, item_id).suggestions}
    for action, code, extra in plan:
        kwargs = {"suggestion_id": ids[code]} if code in ids else {"code": code}
        queue.decide(engine, coder, item_id, action=action, billable=BILLABLE, **kwargs, **extra)
    queue.submit(engine, coder, item_id)


def test_precision_recall_and_acceptance_from_decisions(tmp_path):
    engine = review_engine(f"sqlite:///{tmp_path / 'review.sqlite'}")
    fill_queue(engine, 4)
    coder = make_reviewer(engine, "ann")
    missed = {"reason_code": "missed_by_engine"}
    _work(engine, coder, [("accept", "E11.22", {}), ("accept", "I25.2", {})])
    historical = {"reason_code": "historical"}
    _work(engine, coder, [("accept", "E11.22", {}), ("reject", "I25.2", historical)])
    _work(
        engine,
        coder,
        [
            ("edit", "E11.22", {"code": "E11.21", "reason_code": "more_specific"}),
            ("accept", "I25.2", {}),
            ("add", "N18.31", missed),
            ("add", "I10", missed),
        ],
    )
    queue.claim_next(engine, coder)  # a fourth chart, claimed but not submitted: not counted
    card = build_scorecard(engine)
    assert card.submitted_items == 3
    assert card.decisions_by_action == {"accept": 4, "add": 2, "edit": 1, "reject": 1}
    assert card.precision == pytest.approx(4 / 6)  # accepted / (accepted + rejected + edited)
    assert card.recall == pytest.approx(4 / 7)  # accepted / (accepted + edited + added)
    assert (card.codes["E11.22"].accepted, card.codes["E11.22"].decided) == (2, 3)
    assert (card.codes["I25.2"].accepted, card.codes["I25.2"].decided) == (2, 3)
    assert card.hccs["HCC37"].rate == pytest.approx(2 / 3)
    (row,) = card.coders
    assert row["coder"] == "ann" and row["items"] == 3 and row["items_per_hour"] > 0
    assert build_scorecard(engine, workgroups=("cardiology",)).submitted_items == 0
