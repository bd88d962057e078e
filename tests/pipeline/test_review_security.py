"""What the review app refuses: no session, no CSRF token, another coder's claim,
another workgroup's chart, SQL in the search box, password guessing."""

import logging

import pytest
from fastapi.testclient import TestClient

from tests.pipeline.review_app import csrf_in, log_in, queue_app, row_count
from tests.transforms.review.helpers import NOTE, PASSWORD


@pytest.fixture
def served(tmp_path):
    app, engine, coding, cardiology = queue_app(f"sqlite:///{tmp_path / 'review.sqlite'}")
    return app, engine, coding, cardiology


def client_for(app) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1")


def claim(client, token) -> int:
    response = client.post("/claim", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_without_a_session_pages_go_to_login_and_the_rest_is_refused(served):
    app, engine, coding, _ = served
    client = client_for(app)
    page = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert client.get(f"/items/{coding[0]}").status_code == 401
    assert client.get("/codes/search?q=diabetes").status_code == 401
    assert client.post("/claim", data={"csrf_token": "x"}).status_code == 401
    assert row_count(engine, "review_decisions") == 0


def test_a_post_without_the_csrf_token_is_refused(served):
    app, engine, _, _ = served
    client = client_for(app)
    login_page = client.get("/login").text
    # The login form itself needs its token.
    refused = client.post("/login", data={"username": "ann", "password": PASSWORD})
    assert refused.status_code == 403
    assert csrf_in(login_page)
    token = log_in(client, "ann")
    assert client.post("/claim", data={}).status_code == 403
    assert client.post("/claim", data={"csrf_token": token[:-2] + "xx"}).status_code == 403
    assert row_count(engine, "review_audit") > 0
    with engine.connect() as connection:
        claimed = connection.exec_driver_sql(
            "SELECT count(*) FROM review_items WHERE status = 'claimed'"
        ).scalar_one()
    assert claimed == 0


def test_a_coder_cannot_act_on_another_coders_claim(served):
    app, engine, _, _ = served
    ann, bob = client_for(app), client_for(app)
    ann_token, bob_token = log_in(ann, "ann"), log_in(bob, "bob")
    item_id = claim(ann, ann_token)
    assert bob.get(f"/items/{item_id}").status_code == 403  # not bob's chart
    decided = bob.post(
        f"/items/{item_id}/decide",
        data={"csrf_token": bob_token, "action": "accept", "suggestion_id": "1"},
    )
    assert decided.status_code == 409
    assert bob.post(f"/items/{item_id}/submit", data={"csrf_token": bob_token}).status_code == 409
    assert row_count(engine, "review_decisions") == 0


def test_a_coder_cannot_open_another_workgroups_chart(served):
    app, _, _, cardiology = served
    ann = client_for(app)
    token = log_in(ann, "ann")
    assert ann.get(f"/items/{cardiology[0]}").status_code == 403
    refused = ann.post(
        f"/items/{cardiology[0]}/decide",
        data={"csrf_token": token, "action": "accept", "suggestion_id": "1"},
    )
    assert refused.status_code == 403
    # A filter naming another workgroup, or SQL, shows nothing of it.
    for workgroup in ("cardiology", "' OR '1'='1"):
        page = ann.get("/", params={"workgroup": workgroup}, headers={"accept": "text/html"})
        assert page.status_code == 200 and "cardiology</td>" not in page.text
    assert ann.get("/", params={"min_hcc_impact": "1 OR 1=1"}).status_code == 400


def test_sql_in_the_search_box_is_only_text(served):
    app, engine, _, _ = served
    client = client_for(app)
    log_in(client, "ann")
    before = row_count(engine, "review_items")
    for query in ("'; DROP TABLE review_items; --", "E11' OR '1'='1", '" UNION SELECT 1 --'):
        response = client.get("/codes/search", params={"q": query})
        assert response.status_code == 200 and isinstance(response.json(), list)
    assert row_count(engine, "review_items") == before
    hits = client.get("/codes/search", params={"q": "e11.22"}).json()
    assert hits[0]["code"] == "E11.22"


def test_logins_are_rate_limited_per_user(served):
    app, _, _, _ = served
    client = client_for(app)
    for _ in range(5):
        token = csrf_in(client.get("/login").text)
        wrong = client.post(
            "/login", data={"username": "ann", "password": "not it", "csrf_token": token}
        )
        assert wrong.status_code == 401
    token = csrf_in(client.get("/login").text)
    locked = client.post(
        "/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429


def test_only_leads_see_the_scorecard(served):
    app, _, _, _ = served
    coder, lead = client_for(app), client_for(app)
    log_in(coder, "ann")
    log_in(lead, "lena")
    assert coder.get("/scorecard").status_code == 403
    assert lead.get("/scorecard").status_code == 200


def test_cookies_headers_and_logs_keep_phi_in_its_place(tmp_path, caplog):
    app, _, _, _ = queue_app(f"sqlite:///{tmp_path / 'review.sqlite'}", secure_cookies=True)
    client = TestClient(app, base_url="https://127.0.0.1")
    token = csrf_in(client.get("/login").text)
    caplog.set_level(logging.INFO, logger="deidcode.review")
    response = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    token = csrf_in(client.get("/", headers={"accept": "text/html"}).text)
    chart = client.post("/claim", data={"csrf_token": token})
    assert "type 2 diabetes" in chart.text  # the coder reads the note
    for header in ("content-security-policy", "x-frame-options", "cache-control"):
        assert header in chart.headers
    assert chart.headers["cache-control"] == "no-store"
    client.get("/codes/search", params={"q": "chronic kidney disease"})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/items/{item_id}" in logged  # the route template, not the item's content
    for private in (NOTE[:20], "diabetes", "chronic kidney", PASSWORD):
        assert private not in logged
