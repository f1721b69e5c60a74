"""The inbox page, marking messages read, and the unread count every page's menu shows."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from core import notifications
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.mail import render
from portal.paging import page_of
from portal.security import SIGNED_IN, allow

bp = Blueprint("inbox", __name__)
PAGE_SIZE = 20


@bp.route("/inbox")
@allow(SIGNED_IN)
def index():
    found = page_of(notifications.inbox(current_user.id), size=PAGE_SIZE)
    language = str(get_locale())
    # Rendered now, in the reader's language (which may have changed since it was written).
    items = [(note, render(note, language=language, external=False)) for note in found.rows]
    return render_template(
        "inbox/index.html",
        items=items,
        page=found.page,
        pages=found.pages,
        total=found.total,
        confirm=ConfirmForm(),
    )


@bp.route("/inbox/<int:note_id>/read", methods=["POST"])
@allow(SIGNED_IN)
def mark_read(note_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notifications.mark_read(db.session, note_id=note_id, user_id=current_user.id)
    db.session.commit()
    if request.form.get("open"):
        note = db.session.get(notifications.Notification, note_id)
        target = render(note, external=False).link
        if target:
            return redirect(target)
    return redirect(url_for("inbox.index", page=request.form.get("page", type=int) or None))


@bp.route("/inbox/read-all", methods=["POST"])
@allow(SIGNED_IN)
def mark_all_read():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notifications.mark_all_read(db.session, user_id=current_user.id)
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("inbox.index"))


def unread_notifications() -> dict:
    """Give every page the signed-in person's unread count (the menu's badge)."""
    if not current_user or not current_user.is_authenticated:
        return {"unread_notifications": 0}
    try:
        unread = notifications.unread_count(db.session, current_user.id)
    except DBAPIError:
        # The error page of a database that went away must still render; the badge waits.
        db.session.rollback()
        return {"unread_notifications": 0}
    inbox_href = url_for("inbox.index") if unread else None
    return {"unread_notifications": unread, "inbox_href": inbox_href}


def install(app: Flask) -> None:
    """Register the inbox and its unread count."""
    app.register_blueprint(bp)
    app.context_processor(unread_notifications)
