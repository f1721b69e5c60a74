"""Home page, language switch and the liveness probe."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user

from core import accounts
from portal.extensions import db
from portal.i18n import normalize
from portal.security import PUBLIC, allow, is_safe_next

bp = Blueprint("public", __name__)


@bp.route("/")
@allow(PUBLIC)
def home():
    return render_template("public/home.html")


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
