"""A member's shifts in their phone's calendar: a secret feed of their own shifts, reset at will."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar

from core.db import utcnow
from tests.conftest import audit_count, login_as
from tests.factories.volunteers import make_member, unit, user
from volunteers import shifts

PLACE_MINE = "Ботақара, орталық саябақ"
PLACE_CANCELLED = "Ботақара, вокзал алаңы"
PLACE_OTHERS = "Қарағанды, Бұқар жырау даңғылы"


def _shift(session, place: str, days: int, now: dt.datetime):
    coordinator = user(session, "coordinator@demo.kz")
    starts = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=days)
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place=place,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        capacity=3,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=now,
    )
    return shift


def _setup(session):
    """The volunteer's member with two shifts (one cancelled), another member with a third."""
    now = utcnow()
    volunteer = user(session, "volunteer@demo.kz")
    today = now.date()
    mine = make_member(session, 8101, applicant=volunteer, today=today)
    other = make_member(session, 8102, today=today)
    coordinator = user(session, "coordinator@demo.kz")
    kept, cancelled, others = (
        _shift(session, PLACE_MINE, 2, now),
        _shift(session, PLACE_CANCELLED, 3, now),
        _shift(session, PLACE_OTHERS, 2, now),
    )
    signed = {}
    for shift, member in ((kept, mine), (cancelled, mine), (others, other)):
        signup = shifts.sign_up(
            session, shift_id=shift.id, member_id=member.id, actor_id=coordinator.id, now=now
        )
        signed[shift.id] = signup.id
    shifts.cancel_shift(
        session, shift_id=cancelled.id, reason="Жаңбыр", actor_id=coordinator.id, now=now
    )
    session.commit()
    return mine.id, signed[kept.id], signed[cancelled.id]


def _made(client, member_id: int) -> dict:
    """Return the cabinet's reset form for the member: the link it replaces, if any."""
    cabinet = client.get("/my").text
    made = re.search(rf'calendar-{member_id}".*?name="made" value="([^"]+)"', cabinet, re.S)
    return {"made": made.group(1)} if made else {}


def _link(client, member_id: int) -> str:
    page = client.post(f"/my/members/{member_id}/calendar", data=_made(client, member_id))
    assert page.status_code == 200, page.text[:2000]
    https = re.search(r'id="calendar-https"[^>]*>([^<]+)<', page.text).group(1)
    webcal = re.search(r'id="calendar-webcal" href="([^"]+)"', page.text) or re.search(
        r'href="(webcal://[^"]+)"', page.text
    )
    assert webcal.group(1) == "webcal://" + https.split("://", 1)[1]
    return https.split("://", 1)[1].split("/", 1)[1]  # the path, for the test client


def test_calendar_feed_lists_only_own_shifts_in_local_time(app, client, session):
    member_id, kept, cancelled = _setup(session)
    login_as(client, "volunteer@demo.kz")
    assert f"/my/members/{member_id}/calendar" in client.get("/my").text
    path = _link(client, member_id)
    feed = app.test_client().get(f"/{path}")  # a phone's calendar: no session
    assert feed.status_code == 200
    assert feed.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(feed.data)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"signup-{kept}@localhost", f"signup-{cancelled}@localhost"}
    assert str(events[f"signup-{kept}@localhost"]["STATUS"]) == "CONFIRMED"
    assert str(events[f"signup-{cancelled}@localhost"]["STATUS"]) == "CANCELLED"
    start = events[f"signup-{kept}@localhost"].decoded("DTSTART")
    assert start.tzinfo == zoneinfo.ZoneInfo("Asia/Almaty")
    assert str(events[f"signup-{kept}@localhost"]["LOCATION"]) == PLACE_MINE
    text = feed.data.decode()
    assert PLACE_OTHERS not in text and "Asia/Almaty" in text
    for forbidden in ("@example.kz", "@demo.kz", "+7"):  # nobody's contacts, not even theirs
        assert forbidden not in text


def test_calendar_reset_invalidates_the_old_link_and_bad_tokens_are_404(app, client, session):
    member_id, _kept, _cancelled = _setup(session)
    login_as(client, "volunteer@demo.kz")
    old = _link(client, member_id)
    new = _link(client, member_id)  # "Reset link"
    stale = client.post(f"/my/members/{member_id}/calendar")  # a page from before the link
    assert stale.status_code == 409
    phone = app.test_client()
    assert phone.get(f"/{old}").status_code == 404
    assert phone.get(f"/{new}").status_code == 200
    assert phone.get("/calendar/not-a-token.ics").status_code == 404
    session.rollback()
    assert audit_count(session, "calendar_feed.created", "member", member_id) == 1
    assert audit_count(session, "calendar_feed.reset", "member", member_id) == 1
    stranger = app.test_client()
    login_as(stranger, "coordinator@demo.kz")
    assert stranger.post(f"/my/members/{member_id}/calendar").status_code == 404
    assert phone.get(f"/{new}").status_code == 200  # the stranger changed nothing
    app.config["CALENDAR_FEED_LIMIT"] = "2 per minute"
    statuses = [phone.get(f"/calendar/guess{n}.ics").status_code for n in range(3)]
    assert statuses == [404, 404, 429]  # guessing tokens is slowed down


def test_parallel_resets_replace_the_link_once(pg_app):
    """Twenty resets at once (double taps, two phones): one new link, the others 409."""
    from sqlalchemy.orm import Session

    from tests.conftest import engine_of, race, same_browser

    with Session(engine_of(pg_app)) as session:
        member_id, _kept, _cancelled = _setup(session)
    owner = pg_app.test_client()
    login_as(owner, "volunteer@demo.kz")
    first = _link(owner, member_id)
    browsers = [same_browser(owner) for _ in range(20)]
    form = _made(owner, member_id)  # one page, its button tapped twenty times
    url = f"/my/members/{member_id}/calendar"
    results = race(20, lambda i: browsers[i].post(url, data=form))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.status_code for r in results) == [200] + [409] * 19
    phone = pg_app.test_client()
    assert phone.get(f"/{first}").status_code == 404
    with Session(engine_of(pg_app)) as session:
        assert audit_count(session, "calendar_feed.reset", "member", member_id) == 1


def test_the_feed_address_never_reaches_a_log_line():
    """The token is the member's secret: an access log line shows the route, not the token."""
    from portal.observability import scrub

    line = 'GET /calendar/q8Xz-3Ab_kLm09.ics HTTP/1.1" 200'
    assert scrub(line) == 'GET /calendar/[token].ics HTTP/1.1" 200'
