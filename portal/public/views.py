"""Home page, language switch and the liveness probe."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from core import accounts
from portal.extensions import db
from portal.i18n import normalize
from portal.public import todo
from portal.security import PUBLIC, allow, is_safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
@allow(PUBLIC)
def home():
    if not current_user.is_authenticated:
        return render_template("public/home.html")
    return render_template(
        "public/home.html",
        todo=todo.current_lines(),
        volunteer=todo.volunteer_summary(current_user),
    )


@bp.route("/language", methods=["POST"])
@allow(PUBLIC)
def set_language():
    lang = normalize(request.form.get("lang"))
    session["lang"] = lang
    if current_user.is_authenticated:
        accounts.set_language(db.session, user_id=current_user.id, language=lang)
        db.session.commit()
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("public.home"))


@bp.route("/favicon.ico")
@allow(PUBLIC)
def favicon():
    # Browsers ask for /favicon.ico by themselves (for PDFs, JSON, error pages): point them
    # at the icon the pages link to rather than answer 404.
    return redirect(url_for("static", filename="favicon.svg"), code=301)
