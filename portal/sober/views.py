"""Sober settlements: the registry, indicators, initiatives and the public page."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from core import audit, clock, places, uploads
from core.db import utcnow
from core.errors import DomainError
from incentives import sober
from incentives.sober_models import (
    DECLARATION_STATUSES,
    PROPOSER_ROLES,
    SIGNATORY_ROLES,
    Initiative,
    SoberDeclaration,
)
from portal import jobs
from portal.errors import flash_form_errors, refuse
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.labels import (
    DECLARATION_STATUS_LABELS,
    INITIATIVE_STATUS_LABELS,
    PROPOSER_ROLE_LABELS,
    SIGNATORY_ROLE_LABELS,
)
from portal.paging import other_args, page_of
from portal.security import (
    PUBLIC,
    SIGNED_IN,
    administers_country,
    allow,
    get_in_scope,
    require_country_admin,
    require_unit,
)
from portal.sober.forms import (
    CommentForm,
    DeclarationForm,
    IndicatorForm,
    IndicatorImportForm,
    IndicatorKindForm,
    InitiativeForm,
    OutletForm,
    ReviewForm,
    RevokeForm,
)

bp = Blueprint("sober", __name__)
MANAGERS = ("coordinator",)
READERS = ("coordinator", "deputy")
CHART_QUARTERS = 28


# App-wide: the commission's nominate view answers with the initiative page.
@bp.app_context_processor
def _labels():
    return {
        "DECLARATION_STATUS_LABELS": DECLARATION_STATUS_LABELS,
        "SIGNATORY_ROLE_LABELS": SIGNATORY_ROLE_LABELS,
        "INITIATIVE_STATUS_LABELS": INITIATIVE_STATUS_LABELS,
        "PROPOSER_ROLE_LABELS": PROPOSER_ROLE_LABELS,
        "locale": str(get_locale()),
        "num": _num,
    }


def _num(value) -> str:
    """Format a number for the current language; a dash when there is none."""
    return "—" if value is None else format_decimal(value)


def _today():
    return clock.today()


def _settlement_choices(scope_ids: list[int]) -> list[SelectChoice]:
    return unit_choices(scope_ids, levels=("settlement",))


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
    scope = current_user.scope(*READERS)
    query = (
        select(SoberDeclaration)
        .join(places.AdminUnit, SoberDeclaration.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(scope))
    )
    status = args.get("status")
    if status in DECLARATION_STATUSES:
        query = query.where(SoberDeclaration.status == status)
    found = page_of(query.order_by(places.AdminUnit.kato, SoberDeclaration.id.desc()))
    rows = found.rows
    counts = dict(
        db.session.execute(
            select(SoberDeclaration.status, func.count())
            .join(places.AdminUnit, SoberDeclaration.unit_id == places.AdminUnit.id)
            .where(places.units_within_clause(scope))
            .group_by(SoberDeclaration.status)
        ).all()
    )
    units = {u.id: u for u in db.session.scalars(select(places.AdminUnit))}
    districts = {}
    for unit_id in db.session.scalars(
        select(SoberDeclaration.unit_id)
        .join(places.AdminUnit, SoberDeclaration.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(scope))
        .distinct()
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
    scope = current_user.scope(*MANAGERS)
    form.unit_id.choices = _settlement_choices(scope)
    for row in form.signatories:
        row.form.role.choices = _signatory_choices()
    if request.method == "GET" and request.args.get("unit", type=arg_int):
        form.unit_id.data = request.args.get("unit", type=arg_int)
    status = 200
    if form.validate_on_submit():
        try:
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
                scope_ids=scope,
                today=_today(),
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The declaration has been recorded."), "success")
            return redirect(url_for("sober.declaration", declaration_id=declaration.id))
    elif form.errors:
        status = 400
    return render_template("sober/declare.html", form=form), status


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
        can_manage=places.within(db.session, declaration.unit_id, current_user.scope(*MANAGERS)),
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
    try:
        sober.confirm(
            db.session,
            declaration_id=found.id,
            actor_id=current_user.id,
            scope_ids=current_user.scope(*MANAGERS),
        )
    except DomainError as exc:
        return _declaration_page(found, refuse(exc))
    db.session.commit()
    flash(_("The status has been confirmed."), "success")
    return redirect(url_for("sober.declaration", declaration_id=found.id))


@bp.route("/sober/declarations/<int:declaration_id>/revoke", methods=["POST"])
@allow(*MANAGERS)
def revoke(declaration_id: int):
    found = get_in_scope(SoberDeclaration, declaration_id, *MANAGERS)
    form = RevokeForm()
    form.validate_on_submit()  # the domain answers a missing reason with its own message
    try:
        sober.revoke(
            db.session,
            declaration_id=found.id,
            reason=form.reason.data,
            actor_id=current_user.id,
            scope_ids=current_user.scope(*MANAGERS),
        )
    except DomainError as exc:
        return _declaration_page(found, refuse(exc), revoke_form=form)
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
    try:
        sober.add_outlet(
            db.session,
            declaration_id=found.id,
            name=form.name.data,
            stopped_on=form.stopped_on.data,
            actor_id=current_user.id,
            scope_ids=current_user.scope(*MANAGERS),
            today=_today(),
        )
    except DomainError as exc:
        return _declaration_page(found, refuse(exc), outlet_form=form)
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


# ---- indicators --------------------------------------------------------------------------------


def _chart(values: dict, declared_on, last) -> dict:
    """Bars of one indicator's quarters: before the declaration, then after it."""
    first = min(values) if values else last
    if declared_on is not None:
        first = min(first, sober.shift_quarter(sober.quarter_of(declared_on), -4))
    count = min(len(sober.quarters_between(first, last)) or 1, CHART_QUARTERS)
    bars = sober.series(values, declared_on, last, count)
    peak = max((v for _q, v, _a in bars if v is not None), default=0)
    return {"bars": bars, "peak": peak}


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
    last = sober.quarter_of(_today())
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
        can_manage=places.within(db.session, unit.id, current_user.scope(*MANAGERS)),
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
            places.AdminUnit.path.like(unit.path + "%"),
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
    peak = max(
        [t.baseline or 0 for t in combined.values()] + [t.after or 0 for t in combined.values()],
        default=0,
    )
    return render_template(
        "sober/district.html",
        unit=unit,
        kinds=kinds,
        rows=per_settlement,
        combined=combined,
        peak=peak,
    )


def _kind_choices() -> list[SelectChoice]:
    locale = str(get_locale())
    return [SelectChoice(k.code, k.name(locale)) for k in sober.indicator_kinds(db.session)]


@bp.route("/sober/indicators/new", methods=["GET", "POST"])
@allow(*MANAGERS)
def record_indicator():
    form = IndicatorForm()
    scope = current_user.scope(*MANAGERS)
    form.unit_id.choices = _settlement_choices(scope)
    form.kind.choices = _kind_choices()
    form.quarter.choices = [SelectChoice(q, f"Q{q}") for q in (1, 2, 3, 4)]
    if request.method == "GET":
        year, quarter = sober.shift_quarter(sober.quarter_of(_today()), -1)
        form.year.data, form.quarter.data = year, quarter
        if request.args.get("unit", type=arg_int):
            form.unit_id.data = request.args.get("unit", type=arg_int)
    status = 200
    if form.validate_on_submit():
        try:
            sober.record_indicator(
                db.session,
                unit_id=form.unit_id.data,
                kind=form.kind.data,
                year=form.year.data,
                quarter=form.quarter.data,
                value=form.value.data,
                actor_id=current_user.id,
                scope_ids=scope,
                today=_today(),
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The value has been recorded."), "success")
            return redirect(url_for("sober.settlement", unit_id=form.unit_id.data))
    elif form.errors:
        status = 400
    return render_template("sober/indicator_form.html", form=form), status


@bp.route("/sober/indicators/import", methods=["GET", "POST"])
@allow(*MANAGERS)
def import_indicators():
    form = IndicatorImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        content = upload.read()
        try:
            sober.read_indicator_table(content, upload.filename or "")
        except DomainError as exc:
            status = refuse(exc)
        else:
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
    elif form.errors:
        status = 400
    return render_template(
        "sober/import.html", form=form, kinds=sober.indicator_kinds(db.session)
    ), status


@bp.route("/sober/indicator-kinds", methods=["GET", "POST"])
@allow("admin")
def indicator_kinds():
    from incentives.sober_models import IndicatorKind

    if request.method == "POST":
        require_country_admin()
    edit = request.args.get("code")
    existing = db.session.get(IndicatorKind, edit) if edit else None
    form = IndicatorKindForm(obj=existing if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            sober.save_indicator_kind(
                db.session,
                code=form.code.data,
                name_kk=form.name_kk.data,
                name_ru=form.name_ru.data,
                name_en=form.name_en.data,
                active=bool(form.active.data),
                position=form.position.data or 0,
                actor_id=current_user.id,
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The indicator kind has been saved."), "success")
            return redirect(url_for("sober.indicator_kinds"))
    elif form.errors:
        status = 400
    return render_template(
        "sober/indicator_kinds.html",
        kinds=sober.indicator_kinds(db.session, active_only=False),
        form=form,
        editing=existing,
        can_change=administers_country(),
    ), status


# ---- initiatives -------------------------------------------------------------------------------


def _visible_initiative(initiative_id: int) -> Initiative:
    found = db.session.get(Initiative, initiative_id)
    if found is None:
        abort(404)
    if found.submitted_by_id != current_user.id and not places.within(
        db.session, found.unit_id, current_user.scope(*READERS)
    ):
        abort(404)
    return found


@bp.route("/sober/initiatives")
@allow(SIGNED_IN)
def initiatives():
    scope = current_user.scope(*READERS)
    query = select(Initiative).join(places.AdminUnit, Initiative.unit_id == places.AdminUnit.id)
    mine = Initiative.submitted_by_id == current_user.id
    query = query.where(or_(mine, places.units_within_clause(scope)) if scope else mine)
    status = request.args.get("status")
    if status in INITIATIVE_STATUS_LABELS:
        query = query.where(Initiative.status == status)
    rows = db.session.scalars(query.order_by(Initiative.id.desc()).limit(200)).all()
    return render_template("sober/initiatives.html", rows=rows, status=status, reviewer=bool(scope))


@bp.route("/sober/initiatives/new", methods=["GET", "POST"])
@allow(SIGNED_IN)
def submit_initiative():
    form = InitiativeForm()
    form.unit_id.choices = _settlement_choices([current_user.unit_id])
    form.proposer_role.choices = [SelectChoice(r, PROPOSER_ROLE_LABELS[r]) for r in PROPOSER_ROLES]
    status = 200
    if form.validate_on_submit():
        try:
            initiative = sober.submit_initiative(
                db.session,
                unit_id=form.unit_id.data,
                title=form.title.data,
                description=form.description.data,
                measures=form.measures.data,
                team=form.team.data,
                requested_incentive=form.requested_incentive.data,
                proposer_role=form.proposer_role.data,
                actor_id=current_user.id,
                home_unit_id=current_user.unit_id,
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The initiative has been submitted. Coordinators will review it."), "success")
            return redirect(url_for("sober.initiative", initiative_id=initiative.id))
    elif form.errors:
        status = 400
    return render_template("sober/initiative_form.html", form=form), status


def _review_choices(initiative: Initiative) -> list[SelectChoice]:
    return [
        SelectChoice(s, INITIATIVE_STATUS_LABELS[s])
        for s in sober.review_targets(initiative.status)
    ]


def _initiative_page(initiative: Initiative, status: int = 200, **forms):
    review_form = forms.get("review_form") or ReviewForm(formdata=None)
    review_form.to_status.choices = _review_choices(initiative)
    can_review = places.within(db.session, initiative.unit_id, current_user.scope(*MANAGERS))
    return render_template(
        "sober/initiative.html",
        i=initiative,
        can_review=can_review,
        review_form=review_form,
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        nominable=sober.can_be_nominated(initiative),
        **_rewards_context(initiative, can_review, forms.get("nominate_form")),
    ), status


initiative_page = _initiative_page  # the commission's nominate view answers with this page


def _rewards_context(initiative: Initiative, can_nominate: bool, nominate_form=None) -> dict:
    """The initiative's nominations and their outcome; the form to put it forward."""
    from incentives import policy
    from incentives.models import AgendaItem, Nomination, Payout
    from portal.commission.forms import initiative_nomination_form

    rows = db.session.scalars(
        select(Nomination).where(Nomination.initiative_id == initiative.id).order_by(Nomination.id)
    ).all()
    items = {
        i.nomination_id: i
        for i in db.session.scalars(
            select(AgendaItem).where(AgendaItem.nomination_id.in_([n.id for n in rows]))
        )
    }
    paid = {
        p.item_id: p
        for p in db.session.scalars(
            select(Payout).where(
                Payout.item_id.in_([i.id for i in items.values()]),
                Payout.status.in_(("paid", "handed_over")),
            )
        )
    }
    form = None
    if can_nominate and sober.can_be_nominated(initiative):
        try:
            rule = policy.policy_in_force(
                db.session, initiative.unit_id, clock.local_date(utcnow())
            )
            form = nominate_form or initiative_nomination_form(rule.allowed_forms)
        except DomainError:
            form = None
    return {
        "nominations": rows,
        "reward_items": items,
        "reward_paid": paid,
        "nominate_form": form,
    }


@bp.route("/sober/initiatives/<int:initiative_id>")
@allow(SIGNED_IN)
def initiative(initiative_id: int):
    return _initiative_page(_visible_initiative(initiative_id))


@bp.route("/sober/initiatives/<int:initiative_id>/review", methods=["POST"])
@allow(*MANAGERS)
def review_initiative(initiative_id: int):
    found = get_in_scope(Initiative, initiative_id, *MANAGERS)
    form = ReviewForm()
    form.to_status.choices = _review_choices(found)
    if not form.validate_on_submit():
        flash_form_errors(form)  # flash_form_errors: the page may not show the form (S13)
        return _initiative_page(found, 400, review_form=form)
    try:
        sober.review_initiative(
            db.session,
            initiative_id=found.id,
            to_status=form.to_status.data,
            comment=form.comment.data,
            actor_id=current_user.id,
            scope_ids=current_user.scope(*MANAGERS),
        )
    except DomainError as exc:
        return _initiative_page(found, refuse(exc), review_form=form)
    db.session.commit()
    flash(_("The review has been recorded."), "success")
    return redirect(url_for("sober.initiative", initiative_id=found.id))


@bp.route("/sober/initiatives/<int:initiative_id>/comments", methods=["POST"])
@allow(SIGNED_IN)
def comment_initiative(initiative_id: int):
    found = _visible_initiative(initiative_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _initiative_page(found, 400, comment_form=form)
    try:
        sober.comment_initiative(
            db.session,
            initiative_id=found.id,
            body=form.body.data,
            actor_id=current_user.id,
            scope_ids=current_user.scope(*MANAGERS),
        )
    except DomainError as exc:
        return _initiative_page(found, refuse(exc), comment_form=form)
    db.session.commit()
    flash(_("The comment has been added."), "success")
    return redirect(url_for("sober.initiative", initiative_id=found.id))
