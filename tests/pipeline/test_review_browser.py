"""A coder's session in a real headless Chromium (Debian's chromium driven by
chromium-driver through Selenium): log in, claim a chart, light up a code's
evidence, accept, reject with a reason, add a code found by search, submit."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from schemas.review_db import audit_events, decisions, items, suggestions
from tests.browser import chromium
from tests.pipeline.helpers import free_port
from tests.pipeline.review_app import queue_app
from tests.transforms.review.helpers import PASSWORD

webdriver = pytest.importorskip("selenium.webdriver")
uvicorn = pytest.importorskip("uvicorn")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# Set to a path (docs/review_chart.png) to keep the chart page's screenshot.
SCREENSHOT_ENV = "DEIDCODE_REVIEW_SCREENSHOT"


@pytest.fixture
def server(tmp_path):
    app, engine, coding, _ = queue_app(f"sqlite:///{tmp_path / 'review.sqlite'}", n_items=2)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(100):
        if running.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", engine
    running.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.fail("chromedriver is missing: apt-get install chromium-driver (the README's "
                    "test command does)")  # fmt: skip
    options = webdriver.ChromeOptions()
    options.binary_location = chromium()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager would otherwise try to download one.
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def test_a_coder_works_a_chart_end_to_end(server, browser):
    url, engine = server
    wait = WebDriverWait(browser, 15)
    browser.get(f"{url}/")
    wait.until(ec.presence_of_element_located((By.ID, "username"))).send_keys("ann")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    wait.until(ec.element_to_be_clickable((By.ID, "claim-next"))).click()
    wait.until(ec.presence_of_element_located((By.ID, "note")))
    item_id = int(browser.current_url.rsplit("/", 1)[1])
    with engine.connect() as connection:
        codes = dict(
            connection.execute(
                sa.select(suggestions.c.code, suggestions.c.suggestion_id).where(
                    suggestions.c.item_id == item_id
                )
            ).all()
        )

    # The keyboard: j and k move the selection, and its evidence lights up.
    def lit_texts():
        return [span.text for span in browser.find_elements(By.CSS_SELECTOR, "#note span.ev.hl")]

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    assert browser.find_element(By.CSS_SELECTOR, "li.code.selected").get_attribute("id") == (
        f"code-{codes['I25.2']}"
    )
    assert lit_texts() == ["Old myocardial infarction"]
    body.send_keys("k")
    assert len(lit_texts()) == 2

    # Selecting a code lights up its evidence, and only its evidence.
    browser.find_element(By.CSS_SELECTOR, f"#code-{codes['I25.2']} .title").click()
    lit = browser.find_elements(By.CSS_SELECTOR, "#note span.ev.hl")
    assert [span.text for span in lit] == ["Old myocardial infarction"]
    browser.find_element(By.CSS_SELECTOR, f"#code-{codes['E11.22']} .title").click()
    lit = [span.text for span in browser.find_elements(By.CSS_SELECTOR, "#note span.ev.hl")]
    assert lit == ["Type 2 diabetes mellitus with diabetic chronic kidney disease", "CKD stage 3a"]
    screenshot = os.environ.get(SCREENSHOT_ENV)
    if screenshot:
        browser.save_screenshot(str(Path(screenshot)))

    # Accept one code, reject one with a reason, add one found by search.
    browser.find_element(By.CSS_SELECTOR, f"#code-{codes['E11.22']} button.accept").click()
    wait.until(ec.presence_of_element_located((By.ID, f"decision-{codes['E11.22']}")))
    row = browser.find_element(By.ID, f"code-{codes['I25.2']}")
    Select(row.find_element(By.CSS_SELECTOR, "form.reject select")).select_by_value("historical")
    row.find_element(By.CSS_SELECTOR, "form.reject button").click()
    wait.until(ec.presence_of_element_located((By.ID, f"decision-{codes['I25.2']}")))
    browser.find_element(By.ID, "code-search").send_keys("N18.31")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#search-results li.hit"))).click()
    assert browser.find_element(By.ID, "add-code").get_attribute("value") == "N18.31"
    browser.find_element(By.ID, "add-button").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#added li.added")))

    # Submit loads the next chart.
    browser.find_element(By.ID, "submit").click()
    wait.until(lambda driver: not driver.current_url.endswith(f"/items/{item_id}"))
    assert "/items/" in browser.current_url

    with engine.connect() as connection:
        status = connection.execute(
            sa.select(items.c.status).where(items.c.item_id == item_id)
        ).scalar_one()
        made = connection.execute(
            sa.select(decisions.c.action, decisions.c.code, decisions.c.reason_code)
            .where(decisions.c.item_id == item_id)
            .order_by(decisions.c.decision_id)
        ).all()
        events = (
            connection.execute(
                sa.select(audit_events.c.action).where(audit_events.c.item_id == item_id)
            )
            .scalars()
            .all()
        )
        logins = (
            connection.execute(
                sa.select(audit_events.c.username).where(audit_events.c.action == "login")
            )
            .scalars()
            .all()
        )
    assert status == "submitted"
    assert made == [
        ("accept", "E11.22", None),
        ("reject", None, "historical"),
        ("add", "N18.31", "missed_by_engine"),
    ]
    assert events[0] == "claim" and events[-1] == "submit"
    assert events.count("decide") == 3 and "view_item" in events
    assert logins.count("ann") == 2  # the fixture's check, and the browser's form
