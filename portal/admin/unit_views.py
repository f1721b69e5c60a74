"""Administrative units: the list within the admin's jurisdiction, adding and renaming a unit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from core import audit, place_admin, queries, search_text
from core.places import AdminUnit
from portal.admin.blueprint import bp
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import PortalForm, arg_int, unit_choices
from portal.labels import LEVEL_LABELS
from portal.paging import other_args, page_of, row_link
from portal.security import allow, current_scope

NAME_HINT = _l("As in the official KATO list.")


class RenameUnitForm(PortalForm):
    name_kk = StringField(
        _l("Name in Kazakh"),
        validators=[DataRequired(), Length(max=place_admin.NAME_MAX)],
        description=NAME_HINT,
    )
    name_ru = StringField(
        _l("Name in Russian"),
        validators=[DataRequired(), Length(max=place_admin.NAME_MAX)],
        description=NAME_HINT,
    )


class NewUnitForm(RenameUnitForm):
    parent_id = SelectField(_l("Lies within"), coerce=int, validate_choice=True)
    level = SelectField(
        _l("Level"),
        choices=[
            SelectChoice(level, LEVEL_LABELS[level])
            for level in place_admin.CHILD_LEVELS
            if level != "country"
        ],
    )
    kato = StringField(
        _l("KATO code"),
        validators=[DataRequired(), Length(min=9, max=9)],
        description=_l("9 digits, beginning with the code of the unit it lies within."),
    )


@bp.route("/units")
@allow("admin")
def units():
    """The units within the admin's jurisdiction, searched by name or code."""
    scope = current_scope("admin")
    q = (request.args.get("q") or "").strip()
    query = queries.units(scope).order_by(None)
    if q:
        # A name by the units' search key (core.search_text): SQLite's lower() folds ASCII
        # only, so "көкшетау" never met "Көкшетау". contains(autoescape=True): "%" and "_"
        # are searched for, not wildcards.
        query = query.where(
            or_(
                AdminUnit.kato.startswith(q, autoescape=True),
                search_text.matches(
                    search_text.parse_query(q), key=AdminUnit.search_name, name=AdminUnit.name_kk
                ),
            )
        )
    found = page_of(query.order_by(AdminUnit.kato, AdminUnit.id))
    # A unit is renamed by whoever administers the unit above it.
    renamable = queries.units_among(db.session, [u.parent_id for u in found.rows], scope)
    return render_template(
        "admin/units.html",
        units=found.rows,
        renamable=renamable,
        q=q,
        page=found.page,
        total=found.total,
        pages=found.pages,
        args=other_args(),
        rename_href=row_link("admin.rename_unit", "unit_id"),
    )


@bp.route("/units/new", methods=["GET", "POST"])
@allow("admin")
def new_unit():
    """Add a unit under one within the admin's jurisdiction."""
    form = NewUnitForm()
    form.parent_id.choices = unit_choices(current_scope("admin"), place_admin.PARENT_LEVELS)
    if request.method == "GET":
        form.parent_id.data = request.args.get("parent", type=arg_int)
    if form.validate_on_submit():
        with on_refusal("admin/units_form.html", form=form, unit=None, trail=[]):
            unit = place_admin.create_unit(
                db.session,
                parent_id=form.parent_id.data,
                kato=form.kato.data,
                level=form.level.data,
                name_kk=form.name_kk.data,
                name_ru=form.name_ru.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The unit has been added."), "success")
        return redirect(url_for("admin.units", q=unit.kato))
    return render_template("admin/units_form.html", form=form, unit=None, trail=[]), (
        400 if form.errors else 200
    )


@bp.route("/units/<int:unit_id>/rename", methods=["GET", "POST"])
@allow("admin")
def rename_unit(unit_id: int):
    """Rename a unit; its code and its history stay."""
    unit = db.session.get(AdminUnit, unit_id)
    if unit is None or not current_scope("admin").contains(db.session, unit.id):
        abort(404)
    form = RenameUnitForm(obj=unit)
    trail = audit.events_for(db.session, "admin_unit", unit.id)
    if form.validate_on_submit():
        with on_refusal("admin/units_form.html", form=form, unit=unit, trail=trail):
            place_admin.rename_unit(
                db.session,
                unit_id=unit.id,
                name_kk=form.name_kk.data,
                name_ru=form.name_ru.data,
                actor_id=current_user.id,
            )
        db.session.commit()
        flash(_("The unit has been renamed."), "success")
        return redirect(url_for("admin.units", q=unit.kato))
    return render_template("admin/units_form.html", form=form, unit=unit, trail=trail), (
        400 if form.errors else 200
    )
