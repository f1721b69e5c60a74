"""The patrol app on a 360 px phone without a network (issue 21): the service worker gives the
shell and the last data, a check-in and a contribution wait in the outbox and reach the portal
once the phone is online (the check-in at the moment of the tap, marked offline); a check-in the
portal refuses meanwhile (the shift was cancelled) is shown to the person, never dropped."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import func, select

from tests.e2e.conftest import photograph, serving
from tests.e2e.test_accessibility import AXE, RUN_AXE

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}
PASSWORD = "patrol phone 2026"
SETTLEMENT = "354030100"  # a village of Bukhar-Zhyrau district, the demo coordinator's
SENT_WITHIN_MS = 45_000  # the app retries every 30 s; the "online" event sends at once


@pytest.fixture
def live(db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("the browser's side is the same on PostgreSQL; the API is tested on both")
    with serving(db_url) as live:
        yield live


@pytest.fixture
def phone(browser):
    """Open a phone's browser context (service workers allowed); closed after the test, failed
    or not, so that no page of it keeps retrying its outbox during the next test."""
    contexts = []

    def open_context(locale: str):
        context = browser.new_context(
            viewport=PHONE, locale=locale, is_mobile=True, has_touch=True, service_workers="allow"
        )
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


def _staff(live, step):
    """Run ``step(session)`` as the officials would, in its own transaction on the live portal."""
    from portal.extensions import db

    with live.app.app_context():
        result = step(db.session)
        db.session.commit()
        return result


def _volunteer_on_shift(serial: int, email: str, lang: str = "en"):
    """A registered volunteer with an account, signed up for a shift open for check-in now."""

    def step(session):
        from core import accounts, clock
        from core.db import utcnow
        from tests.factories.volunteers import make_member, unit, user
        from volunteers import shifts

        coordinator = user(session, "coordinator@demo.kz")
        person = accounts.create_user(
            session,
            email=email,
            phone=None,
            full_name="Ерлан Патрульный",
            unit_id=unit(session, SETTLEMENT).id,
            preferred_language=lang,
            password=PASSWORD,
            actor_id=None,
        )
        member = make_member(session, serial, applicant=person, today=clock.today())
        now = utcnow()
        # Starts in ten minutes: check-in opens half an hour before the start.
        (shift,) = shifts.plan_shift(
            session,
            unit_id=unit(session, SETTLEMENT).id,
            patrol_unit_id=None,
            place="Botakara, station square",
            starts_at=now + dt.timedelta(minutes=10),
            ends_at=now + dt.timedelta(hours=3),
            capacity=3,
            supervisor_id=coordinator.id,
            actor_id=coordinator.id,
            now=now,
        )
        signup = shifts.sign_up(
            session, shift_id=shift.id, member_id=member.id, actor_id=person.id, now=now
        )
        session.flush()
        return {"signup": signup.id, "shift": shift.id, "member": member.id}

    return step


def _count_kind(session) -> str:
    from volunteers.activity_models import ContributionKind

    return session.scalar(
        select(ContributionKind.code)
        .where(
            ContributionKind.active,
            ContributionKind.measure == "count",
            ContributionKind.needs_reference.is_(False),
        )
        .order_by(ContributionKind.position)
    )


def _installed_app(phone, url: str, email: str, locale: str = "en-US"):
    """Sign in on a phone, open /app and wait until its service worker controls the page."""
    context = phone(locale)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.locator("#login").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/app")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.locator(".pwa-check-in").wait_for()
    return context, page


def _back_online(context, page) -> None:
    """Give the phone its network back, as its radio does: to the page and its worker at once.

    Playwright gives it to the page first and to the service worker after (one by one), so the
    page's "online" event may send through a worker still offline and wait for the 30 s retry.
    Once both are online the event is announced again: what a phone's page hears then.
    """
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 360 px phone"


def _events(session, action: str, object_type: str, object_id: int) -> int:
    from core.audit import AuditEvent

    return session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == action,
            AuditEvent.object_type == object_type,
            AuditEvent.object_id == str(object_id),
        )
    )


def test_a_check_in_and_a_contribution_made_offline_reach_the_portal(phone, live):
    url = live.url
    email = "offline.patrol@example.kz"
    ids = _staff(live, _volunteer_on_shift(9411, email))
    kind = _staff(live, _count_kind)
    context, page = _installed_app(phone, url, email)

    # The manifest the page links loads: an installable app that opens on /app.
    assert page.locator("link[rel=manifest]").count() == 1
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href, {credentials: 'include'})"
        ".then(r => r.ok && r.headers.get('content-type').startsWith('application/manifest+json')"
        " ? r.json() : null)"
    )
    assert manifest["start_url"] == "/app" and manifest["display"] == "standalone"
    assert manifest["name"] == "Citizen Incentive Portal"

    # No network: the shell and the last answers come from the service worker's caches.
    context.set_offline(True)
    page.reload()
    assert page.locator("#pwa-network").inner_text() == "Offline"
    card = page.locator(f".pwa-shift[data-signup='{ids['signup']}']")
    assert "Botakara, station square" in card.inner_text()
    before = dt.datetime.now(dt.UTC)
    card.locator(".pwa-check-in").click()
    card.locator(".pwa-waiting-note").wait_for()
    after = dt.datetime.now(dt.UTC)
    assert "Recorded offline — waiting to send" in card.inner_text()

    page.locator("#pwa-kind").select_option(kind)
    page.locator("#pwa-description").fill("Helped at the school crossing")
    page.locator("#pwa-contribution button[type=submit]").click()
    page.locator("#pwa-waiting-list li").nth(1).wait_for()
    assert page.locator("#pwa-waiting-list li").count() == 2
    assert "Contribution:" in page.locator("#pwa-waiting-list").inner_text()
    _fits(page)
    photograph(page, "pwa-offline-waiting.png", full_page=True)

    # The portal must record the tap's time, not the time it was sent: the phone goes online
    # only once the time of sending can no longer pass for the tap's (more than the slack after).
    slack = dt.timedelta(seconds=1)
    time.sleep(max(0.0, (after + slack - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    online_at = dt.datetime.now(dt.UTC)
    assert online_at > after + slack
    _back_online(context, page)
    page.wait_for_selector("#pwa[data-outbox='0']", timeout=SENT_WITHIN_MS)
    assert page.locator("#pwa-waiting").is_hidden()
    assert page.locator("#pwa-attention").is_hidden()
    # The reloaded shift shows the check-in with the offline mark.
    card.locator("text=recorded offline").wait_for()
    _fits(page)
    photograph(page, "pwa-offline-sent.png", full_page=True)

    def recorded(session):
        from volunteers.activity_models import Contribution, Signup

        signup = session.get(Signup, ids["signup"])
        contributions = session.scalars(
            select(Contribution).where(Contribution.member_id == ids["member"])
        ).all()
        return {
            "status": signup.status,
            "at": signup.checked_in_at,
            "offline": signup.checked_in_offline,
            "check_ins": _events(session, "signup.check_in", "signup", ids["signup"]),
            "contributions": [(c.kind, c.description, c.status) for c in contributions],
            "logged": [
                _events(session, "contribution.log", "contribution", c.id) for c in contributions
            ],
        }

    found = _staff(live, recorded)
    assert (found["status"], found["offline"], found["check_ins"]) == ("checked_in", True, 1)
    assert before - slack <= found["at"] <= after + slack < online_at + slack
    assert found["at"] < online_at
    assert found["contributions"] == [(kind, "Helped at the school crossing", "logged")]
    assert found["logged"] == [1]


def test_a_check_in_refused_meanwhile_is_shown_and_nothing_is_recorded(phone, live):
    url = live.url
    email = "cancelled.patrol@example.kz"
    ids = _staff(live, _volunteer_on_shift(9412, email))
    context, page = _installed_app(phone, url, email)

    context.set_offline(True)
    page.reload()
    card = page.locator(f".pwa-shift[data-signup='{ids['signup']}']")
    card.locator(".pwa-check-in").click()
    card.locator(".pwa-waiting-note").wait_for()

    def cancel(session):
        from core.db import utcnow
        from tests.factories.volunteers import user
        from volunteers import shift_planning

        shift_planning.cancel_shift(
            session,
            shift_id=ids["shift"],
            reason="Storm warning",
            actor_id=user(session, "coordinator@demo.kz").id,
            now=utcnow(),
        )

    _staff(live, cancel)
    # Still offline: the page and the shift come from the worker's caches, as they were (the
    # portal would already answer "Cancelled"), and the tap still waits.
    page.reload()
    card.locator(".pwa-waiting-note").wait_for()
    assert "Status: Signed up" in card.inner_text()
    _back_online(context, page)
    page.wait_for_selector("#pwa[data-outbox='0']", timeout=SENT_WITHIN_MS)
    problem = page.locator("#pwa-attention .pwa-problem")
    problem.wait_for()
    assert page.locator("#pwa-attention").is_visible()
    assert problem.count() == 1
    assert "Check-in: Botakara, station square" in problem.inner_text()
    assert (
        problem.locator(".pwa-detail").inner_text()
        == "The shift was cancelled: there is nothing to check in to."
    )
    # The shift itself now says what happened to it.
    assert "Cancelled" in card.inner_text()
    _fits(page)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    assert page.evaluate(RUN_AXE) == []
    photograph(page, "pwa-offline-conflict.png", full_page=True)

    def recorded(session):
        from volunteers.activity_models import Signup

        signup = session.get(Signup, ids["signup"])
        return (
            signup.status,
            signup.checked_in_at,
            _events(session, "signup.check_in", "signup", ids["signup"]),
        )

    assert _staff(live, recorded) == ("cancelled", None, 0)

    # Kept until the person dismisses it, across a reload.
    page.reload()
    problem.wait_for()
    problem.get_by_role("button", name="Dismiss").click()
    page.locator("#pwa-attention").wait_for(state="hidden")
    page.reload()
    page.locator("#pwa-shifts .pwa-shift").first.wait_for()
    assert page.locator("#pwa-attention").is_hidden()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_the_app_fits_a_phone_in_kazakh_and_russian_offline_too(phone, live, lang):
    url = live.url
    email = f"{lang}.patrol@example.kz"
    ids = _staff(live, _volunteer_on_shift({"kk": 9421, "ru": 9422}[lang], email, lang))
    context, page = _installed_app(phone, url, email, locale=f"{lang}-KZ")
    assert page.locator("html").get_attribute("lang") == lang
    _fits(page)
    context.set_offline(True)
    page.reload()
    page.locator(f".pwa-shift[data-signup='{ids['signup']}'] .pwa-check-in").click()
    page.locator(".pwa-waiting-note").wait_for()
    assert page.locator("#pwa-offline-note").is_visible()
    _fits(page)
    # The app offline, a tap waiting: no serious accessibility problem (as every main page).
    page.evaluate(AXE.read_text(encoding="utf-8"))
    assert page.evaluate(RUN_AXE) == []
    photograph(page, f"pwa-offline-{lang}.png", full_page=True)


def test_a_tap_kept_while_signed_out_is_sent_after_the_next_sign_in(phone, live):
    url = live.url
    email = "expired.patrol@example.kz"
    ids = _staff(live, _volunteer_on_shift(9431, email))
    context, page = _installed_app(phone, url, email)
    context.set_offline(True)
    page.reload()
    page.locator(f".pwa-shift[data-signup='{ids['signup']}'] .pwa-check-in").click()
    page.wait_for_selector("#pwa[data-outbox='1']")

    # The session ended meanwhile: the tap waits, and the person is asked to sign in.
    context.clear_cookies()
    _back_online(context, page)
    page.locator("#pwa-signin").wait_for(timeout=SENT_WITHIN_MS)
    assert "Sign in again to send what is waiting." in page.locator("#pwa-signin").inner_text()
    assert page.locator("#pwa-waiting-list li").count() == 1

    page.locator("#pwa-signin a").click()
    page.locator("#login").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{url}/app")
    page.wait_for_selector("#pwa[data-outbox='0']", timeout=SENT_WITHIN_MS)

    def recorded(session):
        from volunteers.activity_models import Signup

        signup = session.get(Signup, ids["signup"])
        return signup.status, signup.checked_in_offline

    assert _staff(live, recorded) == ("checked_in", True)
