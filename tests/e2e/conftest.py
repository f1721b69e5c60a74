"""Browser-test fixtures: Debian's chromium through Playwright, and a live portal on a port."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import DEMO_PASSWORD, close_app, make_app, unavailable

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def photograph(target, name: str, **options) -> None:
    """Save a screenshot of a page or an element under ``artifacts/`` as evidence.

    Only with ``PORTAL_SCREENSHOTS=1``: the committed pictures change when someone means to
    renew them, not on every test run (and a run saves the time of taking them).
    """
    if os.environ.get("PORTAL_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(exist_ok=True)
        target.screenshot(path=str(ARTIFACTS / name), **options)


CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")


@contextlib.contextmanager
def serving(db_url: str, **config):
    """Serve a portal on ``db_url`` as deployed (CSRF on, not TESTING); yield its base URL."""
    app = make_app(db_url, WTF_CSRF_ENABLED=True, TESTING=False, **config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        close_app(app)


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test process: each test's ``new_page`` is a fresh context (cookies,
    storage), so tests stay apart without paying a browser start each."""
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


@pytest.fixture(scope="session")
def demo_site(sqlite_demo_template, tmp_path_factory):
    """A live portal on a copy of the demo data, shared by the read-only page checks."""
    db = tmp_path_factory.mktemp("demo-site") / "demo.sqlite3"
    shutil.copy(sqlite_demo_template, db)
    with serving(f"sqlite:///{db}") as url:
        yield url


@pytest.fixture(scope="session")
def signed_in(browser, demo_site):
    """Return a page of ``role``'s demo account, signed in once per run, showing Kazakh."""
    pages = {}

    def page_of(role: str):
        if role not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
            page = context.new_page()
            page.goto(f"{demo_site}/login")
            page.locator("#login").fill(f"{role}@demo.kz")
            page.locator("#password").fill(DEMO_PASSWORD)
            page.locator("main form button[type=submit]").click()
            page.wait_for_url(f"{demo_site}/")
            if page.locator("html").get_attribute("lang") != "kk":
                # The admin's saved language is English; the checks run in the longest one.
                page.locator("button[name=lang][value=kk]").evaluate("b => b.click()")
                page.wait_for_function("document.documentElement.lang === 'kk'")
            pages[role] = page
        return pages[role]

    yield page_of
    for page in pages.values():
        page.context.close()
