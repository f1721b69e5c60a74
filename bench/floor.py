"""The idiomatic floor: the least a signed-in page of this stack costs, measured beside the portal.

A minimal Flask + Flask-Login + Flask-SQLAlchemy + Flask-Babel app on the portal's database
and translation catalogues: it loads the user from the session (one query), reads the 20 newest
register entries by an index and renders them in a layout with a 12-link nav whose
labels go through gettext. ``bench/pages.py`` runs it in the same process as the portal (CPU
per request, interleaved) and ``bench/load.py`` serves it under gunicorn like the portal:

    gunicorn --pythonpath bench 'floor:create_app()'     # DATABASE_URL as for the portal

``GET /sign-in/<user id>`` signs in without a password: a benchmark fixture, never deployed.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_babel import Babel, format_date, get_locale, gettext
from flask_login import LoginManager, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from jinja2 import DictLoader
from sqlalchemy import Boolean, Date, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROOT = Path(__file__).resolve().parent.parent
NAV = (  # (endpoint, msgid): twelve links, labels from the portal's catalogues
    ("home", "Home"),
    ("members", "Register"),
    ("home", "My shifts"),
    ("home", "Shifts"),
    ("home", "Confirmations"),
    ("home", "Applications"),
    ("home", "Patrol units"),
    ("home", "Sessions"),
    ("home", "Payouts"),
    ("home", "Budget"),
    ("home", "Red flags"),
    ("home", "Audit log"),
)
TEMPLATES = {
    "layout.html": """<!doctype html>
<html lang="{{ get_locale() }}">
<head><meta charset="utf-8"><title>{% block title %}{% endblock %}</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/portal.css') }}"></head>
<body>
<nav><ul>
{% for endpoint, label in nav %}<li><a href="{{ url_for(endpoint) }}">{{ _(label) }}</a></li>
{% endfor %}</ul>
<span>{{ current_user.full_name }}</span></nav>
<main>{% block content %}{% endblock %}</main>
</body></html>""",
    "members.html": """{% extends "layout.html" %}
{% block title %}{{ _("Register") }}{% endblock %}
{% block content %}
<h1>{{ _("Register") }}</h1>
<table><thead><tr><th>{{ _("Full name") }}</th><th>{{ _("Certificate") }}</th>
<th>{{ _("Status") }}</th></tr></thead><tbody>
{% for m in members %}<tr><td>{{ m.full_name }}</td><td>{{ m.certificate_no or "" }}</td>
<td>{{ m.status }} · {{ m.issued_on|date }}</td></tr>
{% endfor %}</tbody></table>
{% endblock %}""",
}


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
babel = Babel()


class User(Base):
    """The columns of ``user_account`` a page needs."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(2))
    unit_id: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean)
    session_epoch: Mapped[int] = mapped_column(Integer)

    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return bool(self.is_active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"


class Member(Base):
    """A register entry (``member``), read 20 at a time by its unit's index."""

    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    full_name: Mapped[str] = mapped_column(String(200))
    certificate_no: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    issued_on = mapped_column(Date)


@login_manager.user_loader
def _load(user_id: str):
    raw_id, _sep, raw_epoch = user_id.partition(":")
    user = db.session.get(User, int(raw_id))
    if user is None or not user.is_active or str(user.session_epoch) != raw_epoch:
        return None
    return user


def _locale() -> str:
    return current_user.preferred_language if current_user.is_authenticated else "kk"


def create_app(database_url: str | None = None) -> Flask:
    """Build the floor on ``database_url`` (default: ``DATABASE_URL``, as the portal reads it)."""
    url = database_url or os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app = Flask(__name__, static_folder=str(ROOT / "static"))
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SECRET_KEY=os.environ.get("SECRET_KEY", "floor-bench-only"),
        BABEL_DEFAULT_LOCALE="kk",
        BABEL_DEFAULT_TIMEZONE="Asia/Almaty",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "portal" / "translations"),
    )
    app.jinja_loader = DictLoader(TEMPLATES)
    app.jinja_env.globals.update(nav=NAV, get_locale=get_locale)
    app.jinja_env.filters["date"] = lambda value: format_date(value, "medium") if value else ""
    db.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    @app.get("/")
    @login_required
    def home():
        return render_template("members.html", members=[])

    @app.get("/members")
    @login_required
    def members():
        # The newest entries by the primary key's index: 20 rows at every scale (``?rows=50``:
        # as many as a portal list page shows, to tell the cost of rows from the rest).
        count = 50 if request.args.get("rows") == "50" else 20
        rows = db.session.scalars(select(Member).order_by(Member.id.desc()).limit(count)).all()
        return render_template("members.html", members=rows)

    @app.get("/sign-in/<int:user_id>")
    def sign_in(user_id: int):
        user = db.session.get(User, user_id)
        if user is None:
            abort(404)
        login_user(user)
        return redirect(url_for("members"))

    @app.get("/hello")
    def hello():
        return gettext("Home")

    return app
