"""In a real browser (Debian chromium through Playwright): sign in, switch language, phone size."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import CI, DEMO_PASSWORD, close_app, make_app, unavailable

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = pytest.mark.e2e


@pytest.fixture
def live_url(sqlite_template, tmp_path):
    db = tmp_path / "e2e.sqlite3"
    shutil.copy(sqlite_template, db)
    app = make_app(f"sqlite:///{db}", WTF_CSRF_ENABLED=True, TESTING=False)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    close_app(app)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        unavailable("chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def test_sign_in_switch_language_and_screenshot_on_a_phone(live_url, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740}, locale="kk-KZ")
    page.goto(f"{live_url}/login")
    assert page.locator("html").get_attribute("lang") == "kk"
    page.get_by_label("E-mail немесе телефон").fill("admin@demo.kz")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{live_url}/")
    # The admin's saved language is English; switch to Russian with the header buttons.
    page.get_by_role("button", name="Open the menu").click()
    page.get_by_role("button", name="Русский").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Добро пожаловать")
    # Nothing may be wider than the phone: no horizontal scrolling.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    page.goto(f"{live_url}/admin/users")
    assert "Пользователи" in page.content()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "users-ru-360.png"), full_page=True)
    assert (ARTIFACTS / "users-ru-360.png").stat().st_size > 10_000
    # Starting the audit check from the browser moves the progress bar to 100 %.
    page.goto(f"{live_url}/admin/audit")
    page.get_by_role("button", name="Проверить сейчас").click()
    page.wait_for_selector("#job-result:not(.d-none)", timeout=30_000)
    assert page.locator("#job-bar").inner_text() == "100%"
    page.screenshot(path=str(ARTIFACTS / "job-ru-360.png"), full_page=True)


def test_ci_has_a_browser():
    if CI:
        assert Path(CHROMIUM).exists(), "CI must install Debian's chromium (.ci/run does)"
