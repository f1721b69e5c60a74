"""The administrator's pages: who reviews complaints per jurisdiction, and the legal grounds."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from appeals import grounds as ground_data
from appeals import settings
from appeals.models import ACT_KINDS
from core import accounts
from core.places import AdminUnit
from portal.appeals.blueprint import bp
from portal.appeals.forms import ReviewBodyForm
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import unit_choices
from portal.security import allow, current_scope

ADMINS = ("admin",)
REVIEW_LEVELS = ("country", "region", "city", "district")


def _form(formdata=None) -> ReviewBodyForm:
    form = ReviewBodyForm(formdata=formdata) if formdata is not None else ReviewBodyForm()
    scope = current_scope(*ADMINS)
    form.unit_id.choices = unit_choices(scope, REVIEW_LEVELS)
    # The reviewing unit is strictly above the jurisdiction (appeals.settings checks which):
    # only the units above some jurisdiction of the list are offered.
    above = _units_above([c.value for c in form.unit_id.choices])
    form.review_unit_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(c.value, c.label) for c in form.unit_id.choices if c.value in above
    ]
    return form


def _units_above(unit_ids: list[int]) -> set[int]:
    """Ids of the units that are an ancestor of one of ``unit_ids``."""
    paths = db.session.scalars(select(AdminUnit.path).where(AdminUnit.id.in_(unit_ids))).all()
    return {int(i) for path in paths for i in path.strip("/").split("/")[:-1]}


def _page(form: ReviewBodyForm, status: int = 200):
    rows = settings.settings_in(db.session, current_scope(*ADMINS))
    unit_ids = {r.unit_id for r in rows} | {r.review_unit_id for r in rows if r.review_unit_id}
    units = {
        u.id: u for u in db.session.scalars(select(AdminUnit).where(AdminUnit.id.in_(unit_ids)))
    }
    people = {
        u.id: u
        for u in db.session.scalars(
            select(accounts.User).where(accounts.User.id.in_({r.reviewer_id for r in rows}))
        )
    }
    return render_template(
        "appeals/review_bodies.html", form=form, rows=rows, units=units, people=people
    ), status


@bp.route("/appeals/review-bodies", methods=["GET", "POST"])
@allow(*ADMINS)
def review_bodies():
    if request.method == "GET":
        return _page(_form())
    form = _form(request.form)
    if not form.validate_on_submit():
        return _page(form, 400)
    reviewer_id = None
    login = (form.reviewer_login.data or "").strip()
    if login:
        official = accounts.find_by_login(db.session, login)
        if official is None:
            form.reviewer_login.errors = [_("There is no account with this e-mail.")]
            return _page(form, 400)
        reviewer_id = official.id
    with on_refusal(lambda status: _page(form, status), field=form):
        settings.set_review_body(
            db.session,
            unit_id=form.unit_id.data,
            review_unit_id=form.review_unit_id.data or None,
            reviewer_id=reviewer_id,
            body_kk=form.body_kk.data,
            body_ru=form.body_ru.data,
            how_kk=form.how_kk.data,
            how_ru=form.how_ru.data,
            actor_id=current_user.id,
        )
    db.session.commit()
    flash(_("The reviewing body has been saved."), "success")
    return redirect(url_for("appeals.review_bodies"))


@bp.route("/appeals/grounds")
@allow(*ADMINS)
def legal_grounds():
    locale = str(get_locale())
    groups = [
        (kind, ground_data.grounds_for(db.session, kind, active_only=False)) for kind in ACT_KINDS
    ]
    return render_template("appeals/grounds.html", groups=groups, locale=locale)
