"""On a 360 px phone: a double tap on "Check in" does not end the shift; a check-out is undone.

Issue 19, finding 4: "Check out" appeared exactly where "Check in" was, and a double tap ended
a shift 2 s after it began with no way back.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import threading

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_PASSWORD
from tests.e2e.conftest import serving

pytestmark = pytest.mark.e2e


@pytest.fixture
def live(sqlite_template, tmp_path):
    db = tmp_path / "taps.sqlite3"
    shutil.copy(sqlite_template, db)
    url = f"sqlite:///{db}"
    with serving(url) as live:
        yield live, url


def _running_shift(app) -> tuple[int, int]:
    """Sign the demo volunteer up for a shift that began five minutes ago: (signup, member)."""
    from core.db import utcnow
    from portal.extensions import db
    from tests.factories.volunteers import unit, user
    from volunteers import shifts
    from volunteers.models import Member

    with app.app_context():
        now = utcnow()
        coordinator = user(db.session, "coordinator@demo.kz")
        (running,) = shifts.plan_shift(
            db.session,
            unit_id=unit(db.session, "354030100").id,
            patrol_unit_id=None,
            place="Ботақара, вокзал алаңы",
            starts_at=now - dt.timedelta(minutes=5),
            ends_at=now + dt.timedelta(hours=2),
            capacity=3,
            supervisor_id=None,
            actor_id=coordinator.id,
            now=now - dt.timedelta(days=1),
        )
        volunteer = user(db.session, "volunteer@demo.kz")
        volunteer.preferred_language = "en"  # the saved language wins over the browser's
        member_id = db.session.scalar(select(Member.id).where(Member.user_id == volunteer.id))
        signup = shifts.sign_up(
            db.session,
            shift_id=running.id,
            member_id=member_id,
            actor_id=volunteer.id,
            now=now - dt.timedelta(days=1),
        )
        db.session.commit()
        return signup.id, member_id


def _status(db_url: str, signup_id: int) -> str:
    """Read the sign-up's state straight from the file (an app per read costs a second)."""
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT status FROM signup WHERE id = ?", (signup_id,)).fetchone()[0]


def _my_shifts_on_a_phone(browser, base: str, member_id: int):
    """Sign the demo volunteer in on a 360 px touch phone and open their shifts."""
    phone = browser.new_page(viewport={"width": 360, "height": 780}, locale="en-US", has_touch=True)
    phone.goto(f"{base}/login")
    phone.locator("#login").fill("volunteer@demo.kz")
    phone.locator("#password").fill(DEMO_PASSWORD)
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_url(f"{base}/")
    phone.goto(f"{base}/my/shifts?member={member_id}")
    return phone


def test_double_tap_on_check_in_keeps_the_shift_and_check_out_can_be_undone(live, browser):
    from playwright.sync_api import expect

    server, db_url = live
    base = server.url
    signup_id, member_id = _running_shift(server.app)
    phone = _my_shifts_on_a_phone(browser, base, member_id)
    card = phone.locator("article", has_text="Ботақара, вокзал алаңы")
    button = card.get_by_role("button", name="Check in")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # The second tap of a double tap, at the same spot once the next page is there.
    phone.touchscreen.tap(x, y)
    phone.wait_for_load_state()
    expect(phone.locator("main")).to_contain_text("Checked in")
    # Static files are left out: the browser keeps them (immutable addresses) and answers them
    # from its cache, which Playwright still reports as requests the portal never receives.
    received, sent = server.received, []
    phone.on("request", lambda request: sent.append(request.url))
    phone.touchscreen.tap(x, y)
    phone.wait_for_load_state()
    portal = [url for url in sent if url.startswith(base) and "/static/" not in url]
    if portal:  # the tap may land where nothing is sent
        server.wait_for_request_after(received)
    server.settle()  # whatever the second tap sent has been answered
    assert _status(db_url, signup_id) == "checked_in"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    phone.goto(f"{base}/my/shifts?member={member_id}")
    phone.locator("article", has_text="Ботақара, вокзал алаңы").get_by_role(
        "button", name="Check out"
    ).click()
    # Minutes into the shift: the page says how long was worked before anything is done.
    assert "0:0" in phone.locator("main").inner_text()
    phone.get_by_role("button", name="Yes, check out").click()
    phone.wait_for_load_state()
    assert _status(db_url, signup_id) == "completed"
    phone.get_by_role("button", name="Undo (2 min)").click()
    phone.wait_for_load_state()
    expect(phone.locator("main")).to_contain_text("Check-out undone")
    assert _status(db_url, signup_id) == "checked_in"
    button = phone.locator("article", has_text="Ботақара, вокзал алаңы").locator(
        "form.check-out button"
    )
    assert button.is_visible()

    # While the portal works on a step its button is busy (busy.js): what it showed is kept in
    # the tab's sessionStorage, and a second tap at once sends nothing.
    phone.evaluate(
        """() => {
          const form = document.querySelector("article form.check-out");
          const button = form.querySelector("button");
          new MutationObserver(() => sessionStorage.setItem("busy", JSON.stringify(
            [button.disabled, button.textContent.trim(), form.getAttribute("aria-busy")]
          ))).observe(form, {attributes: true, childList: true, subtree: true});
        }"""
    )
    posts = []
    phone.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    phone.mouse.click(x, y)
    phone.mouse.click(x, y)
    expect(phone.get_by_role("button", name="Yes, check out")).to_be_visible()
    assert [p.url.rsplit("/", 1)[1] for p in posts] == ["check-out"]
    assert phone.evaluate("() => sessionStorage.getItem('busy')") == '[true,"Working…","true"]'


def test_a_busy_step_keeps_its_button_under_the_finger_and_cancel_waits(live, browser, monkeypatch):
    """The second tap of a double tap lands on the step's own button, never on "Cancel".

    While its POST is under way the button says "Working…". Were it to shrink, "Cancel" beside
    it would slide under the finger and the second tap would follow the link, which the browser
    takes instead of the step (seen in CI: a double click on "Yes, close the session and
    decide" sent no POST, only the session page's GET).
    """
    from playwright.sync_api import expect

    server, db_url = live
    base = server.url
    signup_id, member_id = _running_shift(server.app)
    phone = _my_shifts_on_a_phone(browser, base, member_id)
    card = phone.locator("article", has_text="Ботақара, вокзал алаңы")
    card.get_by_role("button", name="Check in").click()
    expect(phone.locator("main")).to_contain_text("Checked in")
    card.get_by_role("button", name="Check out").click()
    step = phone.locator("form.confirm-step button[type=submit]")
    expect(step).to_have_text("Yes, check out")
    box = step.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cancel = phone.locator("form.confirm-step a", has_text="Cancel").bounding_box()
    # While a navigation is pending Playwright reads nothing of the page: the page itself notes
    # how the busy form looks, in the tab's sessionStorage, to be read afterwards.
    phone.evaluate(
        """([x, y]) => {
          const form = document.querySelector("form.confirm-step");
          const button = form.querySelector("button"), cancel = form.querySelector("a");
          let marked = false;
          new MutationObserver(() => {
            if (button.disabled && !marked) {
              marked = true;
              cancel.click();  // what Enter on a focused "Cancel" does, pointer or not
              console.log("busy");  // the test waits for this: it cannot read a page in transit
            }
            const r = button.getBoundingClientRect();
            sessionStorage.setItem("busy", JSON.stringify({
              disabled: button.disabled, text: button.textContent.trim(),
              width: r.width, height: r.height,
              covers: r.left <= x && x <= r.right && r.top <= y && y <= r.bottom,
              link: document.elementFromPoint(x, y).closest("a") !== null,
              cancel: getComputedStyle(cancel).pointerEvents,
            }));
          }).observe(form, {attributes: true, childList: true, subtree: true});
        }""",
        [x, y],
    )

    # The portal holds the step's POST until the taps are done: the page stays busy.
    release, wsgi_app, sent = threading.Event(), server.app.wsgi_app, []

    def slow_portal(environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            release.wait(30)
        return wsgi_app(environ, start_response)

    monkeypatch.setattr(server.app, "wsgi_app", slow_portal)
    phone.on("request", lambda r: sent.append(r.method) if r.url.startswith(base) else None)
    try:
        with (
            phone.expect_request(lambda r: r.method == "POST"),
            phone.expect_console_message(lambda m: m.text == "busy"),
        ):
            phone.mouse.click(x, y)
        # The second tap of a double tap, then a tap on "Cancel", which cancels nothing now.
        phone.mouse.click(x, y)
        phone.wait_for_timeout(200)
        assert sent == ["POST"], "the second tap, or Enter on Cancel, left the page"
        phone.mouse.click(cancel["x"] + cancel["width"] / 2, cancel["y"] + cancel["height"] / 2)
        phone.wait_for_timeout(200)
        assert sent == ["POST"], "Cancel left the page"
    finally:
        release.set()
    expect(phone.locator("main")).to_contain_text("Undo (2 min)")
    assert _status(db_url, signup_id) == "completed"
    busy = json.loads(phone.evaluate("() => sessionStorage.getItem('busy')"))
    assert busy["disabled"] and busy["text"] == "Working…"
    assert busy["width"] >= box["width"] and busy["height"] >= box["height"]
    assert busy["covers"] and not busy["link"] and busy["cancel"] == "none"
