"""The review app over a made-up queue, for the security and browser tests."""

from __future__ import annotations

import re

import sqlalchemy as sa

from pipeline.review.app import AppSettings, create_app
from tests.transforms.review.helpers import PASSWORD, fill_queue, make_reviewer, review_engine
from transforms.coding.codeset import bundled_code_set
from transforms.review.codesearch import CodeSearch

SESSION_KEY = b"review-session-key-for-tests-only-0123456789"


def queue_app(url: str, *, secure_cookies: bool = False, n_items: int = 4):
    """An app, its engine and the item ids: ``coding`` items for ann, bob and the
    lead, ``cardiology`` ones for otto."""
    engine = review_engine(url)
    coding = fill_queue(engine, n_items)
    cardiology = fill_queue(engine, 2, workgroup="cardiology", run_id="run-c")
    for name in ("ann", "bob"):
        make_reviewer(engine, name)
    make_reviewer(engine, "otto", workgroups=("cardiology",))
    make_reviewer(engine, "lena", role="lead")
    app = create_app(
        AppSettings(
            engine=engine,
            session_secret=SESSION_KEY,
            secure_cookies=secure_cookies,
            codes=CodeSearch(bundled_code_set()),
        )
    )
    return app, engine, coding, cardiology


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client, name: str) -> str:
    """Log in through the form; the CSRF token of the signed-in session."""
    token = csrf_in(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_in(client.get("/", headers={"accept": "text/html"}).text)


def row_count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
