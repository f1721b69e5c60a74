"""A member's shifts as an iCalendar feed at a secret address, and the cabinet's link to it."""

from __future__ import annotations

import datetime as dt

import icalendar
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import parse

from core import clock
from core.account_models import User
from core.db import utcnow
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.security import PUBLIC, SIGNED_IN, allow
from portal.throttle import too_many
from volunteers import calendar_feeds

bp = Blueprint("calendar", __name__)
# Phone calendars poll a feed every few hours; a burst past this is someone guessing tokens.
LIMIT_NAME = "CALENDAR_FEED_LIMIT"
DEFAULT_LIMIT = "60 per minute"


@bp.route("/calendar/<token>.ics")
@allow(PUBLIC)
def feed(token: str):
    throttle = current_app.extensions["portal_throttle"]
    # Read each time, as the other limits' settings are: ``parse`` keeps what it parsed.
    throttle.limits[LIMIT_NAME] = parse(str(current_app.config.get(LIMIT_NAME) or DEFAULT_LIMIT))
    if not throttle.hit(LIMIT_NAME, "calendar-feed", get_remote_address() or "-"):
        return too_many(60)
    member = calendar_feeds.member_of_token(db.session, token)
    if member is None:
        abort(404)
    user = db.session.get(User, member.user_id) if member.user_id else None
    with force_locale(user.preferred_language if user else "kk"):
        body = _ics(member.id)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="shifts.ics"',
            # A private feed: no shared cache keeps it, and its address never leaks onward.
            "Cache-Control": "private, max-age=900",
            "Referrer-Policy": "no-referrer",
        },
    )


def _ics(member_id: int) -> bytes:
    """Return the member's calendar: their own shifts, nobody else's, in local time."""
    now = utcnow()
    zone = clock.zone()
    host = request.host.split(":")[0] or "portal"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Citizen Incentive Portal//Shifts//KK")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("My shifts"))
    calendar.add("x-wr-timezone", str(zone))
    details = url_for("shifts.mine", _external=True)
    for signup, shift in calendar_feeds.feed_signups(db.session, member_id, now):
        event = icalendar.Event()
        # One sign-up is one event for good: a changed shift updates it in the phone.
        event.add("uid", f"signup-{signup.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", shift.starts_at.astimezone(zone))
        event.add("dtend", shift.ends_at.astimezone(zone))
        event.add("summary", _("Patrol shift: %(place)s", place=shift.place))
        event.add("location", shift.place)
        cancelled = shift.status == "cancelled" or signup.status == "cancelled"
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        if shift.status == "cancelled" and shift.cancel_reason:
            event.add("description", _("Cancelled: %(reason)s", reason=shift.cancel_reason))
        event.add("url", details)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


@bp.route("/my/members/<int:member_id>/calendar", methods=["POST"])
@allow(SIGNED_IN)
def issue_link(member_id: int):
    """Make the member's calendar link (or a new one, ending the old) and show it once."""
    from portal.volunteers.views import cabinet

    if not ConfirmForm().validate_on_submit():
        abort(400)
    made = request.form.get("made")
    try:
        replacing = dt.datetime.fromisoformat(made) if made else None
    except ValueError:
        abort(400)
    if replacing is not None and replacing.tzinfo is None:
        abort(400)  # the page writes an aware time; anything else was not sent by it
    with on_refusal(lambda status: cabinet(status=status)):
        token = calendar_feeds.issue_link(
            db.session, member_id=member_id, user_id=current_user.id, replacing=replacing
        )
    db.session.commit()
    https = url_for("calendar.feed", token=token, _external=True)
    webcal = "webcal://" + https.split("://", 1)[1]
    return render_template("volunteers/calendar_link.html", https=https, webcal=webcal)


def install(app: Flask) -> None:
    """Register the feed and the cabinet's link to it."""
    app.register_blueprint(bp)
