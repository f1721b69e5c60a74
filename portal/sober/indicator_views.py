"""Sober settlements' indicators: a settlement's and a district's trends, values, imports, kinds."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

import sober
from core import clock, places, uploads
from incentives.sober_models import IndicatorKind, SoberDeclaration
from portal import jobs, kind_pages
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import arg_int  # arg_int: fuzzing fix (S13)
from portal.security import allow, current_scope, holds, require_unit
from portal.sober.blueprint import bp
from portal.sober.forms import IndicatorForm, IndicatorImportForm, IndicatorKindForm
from portal.sober.roles import MANAGERS, READERS, settlement_choices

CHART_QUARTERS = 28

# ---- indicators --------------------------------------------------------------------------------


def _chart(values: dict, declared_on, last) -> list:
    """Bars of one indicator's quarters: before the declaration, then after it."""
    first = min(values) if values else last
    if declared_on is not None:
        first = min(first, sober.shift_quarter(sober.quarter_of(declared_on), -4))
    count = min(len(sober.quarters_between(first, last)) or 1, CHART_QUARTERS)
    return sober.series(values, declared_on, last, count)


@bp.route("/sober/settlements/<int:unit_id>")
@allow(*READERS)
def settlement(unit_id: int):
    unit = db.session.get(places.AdminUnit, unit_id)
    if unit is None or unit.level != "settlement":
        abort(404)
    require_unit(unit.id, *READERS, private=True)
    declarations = db.session.scalars(
        select(SoberDeclaration)
        .where(SoberDeclaration.unit_id == unit.id)
        .order_by(SoberDeclaration.id.desc())
    ).all()
    live = next((d for d in declarations if d.status != "revoked"), None)
    declared_on = live.gathered_on if live else None
    kinds = sober.indicator_kinds(db.session)
    values = sober.values_for(db.session, [unit.id])[unit.id]
    last = sober.quarter_of(clock.today())
    return render_template(
        "sober/settlement.html",
        unit=unit,
        declarations=declarations,
        live=live,
        kinds=kinds,
        charts={k.code: _chart(values.get(k.code, {}), declared_on, last) for k in kinds},
        trends={k.code: sober.trend(values.get(k.code, {}), declared_on) for k in kinds}
        if declared_on
        else {},
        can_manage=holds(unit.id, *MANAGERS),
    )


@bp.route("/sober/districts/<int:unit_id>")
@allow(*READERS)
def district(unit_id: int):
    unit = db.session.get(places.AdminUnit, unit_id)
    if unit is None or unit.level not in ("district", "city", "region"):
        abort(404)
    require_unit(unit.id, *READERS, private=True)
    declarations = db.session.scalars(
        select(SoberDeclaration)
        .join(places.AdminUnit, SoberDeclaration.unit_id == places.AdminUnit.id)
        .where(
            places.path_within_clause(places.AdminUnit.path, unit.path),
            SoberDeclaration.status != "revoked",
        )
        .order_by(places.AdminUnit.kato)
    ).all()
    kinds = sober.indicator_kinds(db.session)
    values = sober.values_for(db.session, [d.unit_id for d in declarations])
    per_settlement = [
        (
            d,
            {k.code: sober.trend(values[d.unit_id].get(k.code, {}), d.gathered_on) for k in kinds},
        )
        for d in declarations
    ]
    combined = {
        k.code: sober.combined_trend(
            [(values[d.unit_id].get(k.code, {}), d.gathered_on) for d in declarations]
        )
        for k in kinds
    }
    return render_template(
        "sober/district.html",
        unit=unit,
        kinds=kinds,
        rows=per_settlement,
        combined=combined,
    )


def _kind_choices() -> list[SelectChoice]:
    locale = str(get_locale())
    return [SelectChoice(k.code, k.name(locale)) for k in sober.indicator_kinds(db.session)]


@bp.route("/sober/indicators/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def record_indicator():
    form = IndicatorForm()
    scope = current_scope(*MANAGERS)
    form.unit_id.choices = settlement_choices(scope)
    form.kind.choices = _kind_choices()
    form.quarter.choices = [SelectChoice(q, f"Q{q}") for q in (1, 2, 3, 4)]
    if request.method == "GET":
        year, quarter = sober.shift_quarter(sober.quarter_of(clock.today()), -1)
        form.year.data, form.quarter.data = year, quarter
        if request.args.get("unit", type=arg_int):
            form.unit_id.data = request.args.get("unit", type=arg_int)
    if form.validate_on_submit():
        with on_refusal("sober/indicator_form.html", form=form):
            sober.record_indicator(
                db.session,
                unit_id=form.unit_id.data,
                kind=form.kind.data,
                year=form.year.data,
                quarter=form.quarter.data,
                value=form.value.data,
                actor_id=current_user.id,
                scope=scope,
                today=clock.today(),
            )
        db.session.commit()
        flash(_("The value has been recorded."), "success")
        return redirect(url_for("sober.settlement", unit_id=form.unit_id.data))
    return render_template("sober/indicator_form.html", form=form), 400 if form.errors else 200


@bp.route("/sober/indicators/import", methods=["GET", "POST"])
@allow(*MANAGERS)
def import_indicators():
    form = IndicatorImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        with on_refusal(lambda status: _import_page(form, status)):
            # Cheap checks only: the file is parsed by the job, within its limits (issue 17).
            sober.check_indicator_file(content, upload.filename or "")
        stored = uploads.store(
            db.session,
            filename=upload.filename or "indicators.csv",
            content_type="text/csv",
            content=content,
            owner_id=current_user.id,
        )
        run = jobs.submit(
            "sober.indicators_import",
            requested_by_id=current_user.id,
            unit_id=None,
            params={"file_id": stored.id},
        )
        db.session.commit()
        return redirect(url_for("jobruns.show", run_id=run.id))
    return _import_page(form, 400 if form.errors else 200)


def _import_page(form: IndicatorImportForm, status: int):
    return render_template(
        "sober/import.html", form=form, kinds=sober.indicator_kinds(db.session)
    ), status


kind_pages.register(
    bp,
    kind_pages.KindPage(
        endpoint="indicator_kinds",
        rule="/sober/indicator-kinds",
        title=_l("Indicator kinds"),
        intro=_l(
            "Outcome indicators followed quarterly in sober settlements. A kind no longer "
            "followed is retired, not deleted."
        ),
        saved=_l("The indicator kind has been saved."),
        model=IndicatorKind,
        form=IndicatorKindForm,
        save=sober.save_indicator_kind,
        listed=lambda session: sober.indicator_kinds(session, active_only=False),
    ),
)
