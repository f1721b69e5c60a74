"""Browser-test fixtures: Debian's chromium through Playwright, and a live portal on a port."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import close_app, make_app, unavailable

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
