"""Sober settlements: the public page, the registry and the declarations."""

from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

import sober
from core import audit, clock, places, uploads
from incentives.sober_models import DECLARATION_STATUSES, SIGNATORY_ROLES, SoberDeclaration
from portal import charts
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int  # arg_int: fuzzing fix (S13)
from portal.labels import (
    DECLARATION_STATUS_LABELS,
    INITIATIVE_STATUS_LABELS,
    PROPOSER_ROLE_LABELS,
    SIGNATORY_ROLE_LABELS,
)
from portal.paging import other_args, page_of
from portal.security import PUBLIC, allow, current_scope, get_in_scope, holds
from portal.sober.blueprint import bp
from portal.sober.forms import DeclarationForm, OutletForm, RevokeForm
from portal.sober.roles import MANAGERS, READERS, settlement_choices
from sober import queries as sober_queries


# App-wide: the commission's nominate view answers with the initiative page.
@bp.app_context_processor
def _labels():
    return {
        "DECLARATION_STATUS_LABELS": DECLARATION_STATUS_LABELS,
        "SIGNATORY_ROLE_LABELS": SIGNATORY_ROLE_LABELS,
        "INITIATIVE_STATUS_LABELS": INITIATIVE_STATUS_LABELS,
        "PROPOSER_ROLE_LABELS": PROPOSER_ROLE_LABELS,
        "locale": str(get_locale()),
        "num": charts.number,
    }


def _district_of(units: dict[int, places.AdminUnit], unit: places.AdminUnit):
    current = unit
    while current.parent_id is not None:
        current = units[current.parent_id]
        if current.level in ("district", "city"):
            return current
    return None


# ---- the public page ---------------------------------------------------------------------------


@bp.route("/sober-settlements")
@allow(PUBLIC)
def public_page():
    regions = sober.public_overview(db.session)
    return render_template(
        "sober/public.html",
        regions=regions,
        kinds=sober.indicator_kinds(db.session),
        total=sum(r.count for r in regions),
    )


# ---- the registry ------------------------------------------------------------------------------


@bp.route("/sober")
@allow(*READERS)
def registry():
    args = request.args
    declarations = sober_queries.sober_declarations(current_scope(*READERS))
    query = declarations
    status = args.get("status")
    if status in DECLARATION_STATUSES:
        query = query.where(SoberDeclaration.status == status)
    found = page_of(query.order_by(places.AdminUnit.kato, SoberDeclaration.id.desc()))
    rows = found.rows
    counts = dict(
        db.session.execute(
            declarations.with_only_columns(SoberDeclaration.status, func.count()).group_by(
                SoberDeclaration.status
            )
        ).all()
    )
    units = {u.id: u for u in db.session.scalars(select(places.AdminUnit))}
    districts = {}
    for unit_id in db.session.scalars(
        declarations.with_only_columns(SoberDeclaration.unit_id).distinct()
    ):
        district = _district_of(units, units[unit_id])
        if district is not None:
            districts[district.id] = district
    return render_template(
        "sober/registry.html",
        rows=rows,
        counts=counts,
        status=status,
        page=found.page,
        pages=found.pages,
        args=other_args(),
        districts=sorted(districts.values(), key=lambda u: u.kato),
        can_manage="coordinator" in current_user.roles(),
    )


def _signatory_choices() -> list[SelectChoice]:
    return [SelectChoice(r, SIGNATORY_ROLE_LABELS[r]) for r in SIGNATORY_ROLES]


@bp.route("/sober/declare", methods=["GET", "POST"])
@allow(*MANAGERS)
def declare():
    form = DeclarationForm()
    scope = current_scope(*MANAGERS)
    form.unit_id.choices = settlement_choices(scope)
    for row in form.signatories:
        row.form.role.choices = _signatory_choices()
    if request.method == "GET" and request.args.get("unit", type=arg_int):
        form.unit_id.data = request.args.get("unit", type=arg_int)
    if form.validate_on_submit():
        with on_refusal("sober/declare.html", form=form):
            file_id = None
            upload = form.record_file.data
            if upload:
                file_id = sober.store_record_pdf(
                    db.session,
                    filename=upload.filename or "record.pdf",
                    content=upload.read(),
                    owner_id=current_user.id,
                ).id
            declaration = sober.declare(
                db.session,
                unit_id=form.unit_id.data,
                gathered_on=form.gathered_on.data,
                attendance=form.attendance.data,
                record_reference=form.record_reference.data,
                record_file_id=file_id,
                signatories=[(r.form.full_name.data, r.form.role.data) for r in form.signatories],
                outlets=[(r.form.name.data, r.form.stopped_on.data) for r in form.outlets],
                actor_id=current_user.id,
                scope=scope,
                today=clock.today(),
            )
        db.session.commit()
        flash(_("The declaration has been recorded."), "success")
        return redirect(url_for("sober.declaration", declaration_id=declaration.id))
    return render_template("sober/declare.html", form=form), 400 if form.errors else 200


def _declaration_page(declaration: SoberDeclaration, status: int = 200, **forms):
    kinds = sober.indicator_kinds(db.session)
    values = sober.values_for(db.session, [declaration.unit_id])[declaration.unit_id]
    return render_template(
        "sober/declaration.html",
        d=declaration,
        kinds=kinds,
        trends={
            k.code: sober.trend(values.get(k.code, {}), declaration.gathered_on) for k in kinds
        },
        can_manage=holds(declaration.unit_id, *MANAGERS),
        confirm_form=ConfirmForm(),
        revoke_form=forms.get("revoke_form") or RevokeForm(formdata=None),
        outlet_form=forms.get("outlet_form") or OutletForm(formdata=None),
        trail=audit.events_for(db.session, "sober_declaration", declaration.id),
        others=db.session.scalars(
            select(SoberDeclaration)
            .where(
                SoberDeclaration.unit_id == declaration.unit_id,
                SoberDeclaration.id != declaration.id,
            )
            .order_by(SoberDeclaration.id.desc())
        ).all(),
    ), status


@bp.route("/sober/declarations/<int:declaration_id>")
@allow(*READERS)
def declaration(declaration_id: int):
    return _declaration_page(get_in_scope(SoberDeclaration, declaration_id, *READERS))


@bp.route("/sober/declarations/<int:declaration_id>/confirm", methods=["POST"])
@allow(*MANAGERS)
def confirm(declaration_id: int):
    found = get_in_scope(SoberDeclaration, declaration_id, *MANAGERS)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with on_refusal(lambda status: _declaration_page(found, status)):
        sober.confirm(
            db.session,
            declaration_id=found.id,
            actor_id=current_user.id,
            scope=current_scope(*MANAGERS),
        )
    db.session.commit()
    flash(_("The status has been confirmed."), "success")
    return redirect(url_for("sober.declaration", declaration_id=found.id))


@bp.route("/sober/declarations/<int:declaration_id>/revoke", methods=["POST"])
@allow(*MANAGERS)
def revoke(declaration_id: int):
    found = get_in_scope(SoberDeclaration, declaration_id, *MANAGERS)
    form = RevokeForm()
    form.validate_on_submit()  # the domain answers a missing reason with its own message
    with on_refusal(lambda status: _declaration_page(found, status, revoke_form=form)):
        sober.revoke(
            db.session,
            declaration_id=found.id,
            reason=form.reason.data,
            actor_id=current_user.id,
            scope=current_scope(*MANAGERS),
        )
    db.session.commit()
    flash(_("The status has been revoked."), "success")
    return redirect(url_for("sober.declaration", declaration_id=found.id))


@bp.route("/sober/declarations/<int:declaration_id>/outlets", methods=["POST"])
@allow(*MANAGERS)
def add_outlet(declaration_id: int):
    found = get_in_scope(SoberDeclaration, declaration_id, *MANAGERS)
    form = OutletForm()
    if not form.validate_on_submit():
        return _declaration_page(found, 400, outlet_form=form)
    with on_refusal(lambda status: _declaration_page(found, status, outlet_form=form)):
        sober.add_outlet(
            db.session,
            declaration_id=found.id,
            name=form.name.data,
            stopped_on=form.stopped_on.data,
            actor_id=current_user.id,
            scope=current_scope(*MANAGERS),
            today=clock.today(),
        )
    db.session.commit()
    flash(_("The retail outlet has been added."), "success")
    return redirect(url_for("sober.declaration", declaration_id=found.id))


@bp.route("/sober/declarations/<int:declaration_id>/record")
@allow(*READERS)
def record_file(declaration_id: int):
    found = get_in_scope(SoberDeclaration, declaration_id, *READERS)
    if found.record_file_id is None:
        abort(404)
    stored = uploads.get_file(db.session, found.record_file_id)
    return send_file(
        io.BytesIO(stored.content),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=stored.filename,
    )
