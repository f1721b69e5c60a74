"""Browser-test fixtures: Debian's chromium through Playwright, and a live portal on a port."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from tests.api.live_server import QuietHandler
from tests.conftest import DEMO_PASSWORD, SharedApp, unavailable

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


class Live:
    """A portal served over HTTP for a browser: its base URL and the app behind it.

    ``app`` is for the steps the staff take meanwhile (``with live.app.app_context()``): the
    live portal's own app, instead of another one built for them at a second's cost. Between
    two tests the portal is closed: a request a closed browser context still sends is answered
    503 and never reaches the next test's database.
    """

    def __init__(self, url: str, app):
        self.url, self.app = url, app
        self._lock = threading.Condition()
        self._started = self._answering = 0
        self._open = False

    def __call__(self, environ, start_response):
        with self._lock:
            if not self._open:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"Between two tests."]
            self._started += 1
            self._answering += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._answering -= 1
                self._lock.notify_all()

    def open(self) -> None:
        """Take requests for a new test, counted from zero."""
        with self._lock:
            # Never ``_answering``: a request still under way is counted until it ends.
            self._started = 0
            self._open = True

    def close(self, timeout: float = 30) -> None:
        """Refuse new requests and wait for those under way (they finish on their database)."""
        with self._lock:
            self._open = False
            assert self._lock.wait_for(lambda: self._answering == 0, timeout), "still answering"

    @property
    def received(self) -> int:
        """How many requests the portal has received so far."""
        with self._lock:
            return self._started

    def wait_for_request_after(self, count: int, timeout: float = 30) -> None:
        """Wait until the portal has received a request beyond the first ``count``: one the
        browser is known to have sent, which ``settle`` alone could return before."""
        with self._lock:
            assert self._lock.wait_for(lambda: self._started > count, timeout), "no request came"

    def settle(self, quiet: float = 0.2, timeout: float = 30) -> None:
        """Wait until the portal has answered every request it got and no new one came for
        ``quiet`` seconds: the request a browser gave up on (the first of a double click) is
        still carried out, and the books are read after it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                left = deadline - time.monotonic()
                assert self._lock.wait_for(lambda: self._answering == 0, left), "still answering"
                started = self._started
                self._lock.wait(quiet)
                if self._answering == 0 and self._started == started:
                    return


def _test_hashing() -> None:
    """Hash passwords with the test profile again: the profile is the process's (core.passwords),
    not an app's, and the other apps of this process (the shared app, helpers) expect it."""
    from core import accounts

    accounts.set_password_profile("test")


class _Server:
    """A portal as deployed (CSRF on, not TESTING) on a port, pointed at one test's database
    at a time (``tests.conftest.SharedApp``): the app, its compiled templates and the server
    are built once per process and backend instead of once per test."""

    def __init__(self, db_url: str, **config):
        self.shared = SharedApp(db_url, WTF_CSRF_ENABLED=True, TESTING=False, **config)
        _test_hashing()
        self.live = Live("", self.shared.app)
        self.busy = False
        self.broken = False  # a request outlived its test: the server serves no other
        self.httpd = make_server(
            "127.0.0.1", 0, self.live, threaded=True, request_handler=QuietHandler
        )
        # The browser's idle keep-alive connections must not hold the shutdown up.
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.live.url = f"http://127.0.0.1:{self.httpd.server_port}"
        # A short poll: shutdown() waits for the loop to look again.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @contextlib.contextmanager
    def serve(self, db_url: str, production_hashing: bool, config: dict):
        from core import accounts

        self.busy = True
        app = self.shared.use(db_url)
        app.config.update(config)  # read per request; reset() puts the app's own back
        if production_hashing:
            accounts.set_password_profile(app.config["PASSWORD_HASH_PROFILE"])
        self.live.open()
        try:
            yield self.live
        finally:
            try:
                self.live.close()
            except AssertionError:
                self.broken = True
                raise
            finally:
                try:
                    self.shared.reset()
                finally:
                    _test_hashing()
                    self.busy = False

    def close(self) -> None:
        self.httpd.shutdown()
        self.thread.join(timeout=10)
        self.shared.close()


# Settings the portal reads on each request, which a test may change on the kept server.
PER_REQUEST = frozenset({"DEMO_MFA_WAIVER"})
# The kept servers of this process, by backend; closed after the run (``_servers_closed``).
SERVERS: dict[str, _Server] = {}


@pytest.fixture(scope="session", autouse=True)
def _servers_closed():
    yield
    for server in SERVERS.values():
        server.close()
    SERVERS.clear()


@contextlib.contextmanager
def serving(db_url: str, *, production_hashing: bool = False, own: bool = False, **config):
    """Serve a portal on ``db_url`` as deployed (CSRF on, not TESTING); yield a :class:`Live`.

    ``config`` is what the test changes of the app's settings for the block (read per
    request, e.g. ``DEMO_MFA_WAIVER``). Passwords are hashed with the test profile, as the
    accounts it signs in were: a sign-in would otherwise rehash the password at the production
    cost (half a second), and so would every other test of this process while the server
    lives. ``production_hashing`` keeps the production profile while the block runs (a sign-in
    then rehashes, as after a release that raises the cost). ``own``: a server of the block's
    own instead of the kept one (a server that lives for the whole run).
    """
    backend = make_url(db_url).get_backend_name()
    kept = SERVERS.get(backend)
    # A setting read only when the app is built (engine options, limits) needs an app of its
    # own; the kept one takes those read per request.
    at_start = set(config) - PER_REQUEST
    if own or at_start or (kept is not None and kept.busy):
        server = _Server(db_url, **{k: config[k] for k in at_start})
        try:
            with server.serve(db_url, production_hashing, config) as live:
                yield live
        finally:
            server.close()
        return
    if kept is None:
        kept = SERVERS[backend] = _Server(db_url)
    try:
        with kept.serve(db_url, production_hashing, config) as live:
            yield live
    finally:
        if kept.broken:  # its late request could reach the next test's database: drop it
            del SERVERS[backend]
            kept.close()


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


# Contexts kept for the whole run (each demo role's signed-in page); any other is the test's.
KEPT: set = set()


@pytest.fixture(autouse=True)
def _contexts_closed(request):
    """Close the browser contexts a test opened (``browser.new_page`` opens one each) when it
    ends: their pages would go on running (a job's progress, an outbox's retries) and hold a
    renderer each until the end of the run."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before and context not in KEPT:
            context.close()


@pytest.fixture(scope="session")
def demo_site(sqlite_demo_template, tmp_path_factory):
    """A live portal on a copy of the demo data, shared by the read-only page checks."""
    db = tmp_path_factory.mktemp("demo-site") / "demo.sqlite3"
    shutil.copy(sqlite_demo_template, db)
    with serving(f"sqlite:///{db}", own=True) as live:
        yield live.url


@pytest.fixture(scope="session")
def signed_in(browser, demo_site):
    """Return a page of ``role``'s demo account, signed in once per run, showing Kazakh."""
    pages = {}

    def page_of(role: str):
        if role not in pages:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="kk-KZ")
            KEPT.add(context)
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
