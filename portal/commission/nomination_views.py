"""Coordinators' candidates and nominations, volunteers' rewards, initiatives put forward."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from core import accounts, audit, clock, places
from core.errors import DomainError
from core.money import parse_tenge
from incentives import nominations, payouts
from incentives import policy as policies
from incentives import queries as reward_queries
from incentives.models import FORMS, MONEY_FORMS, Nomination, NominationContribution
from portal.commission.blueprint import bp
from portal.commission.forms import NominationForm
from portal.commission.page_reads import payout_states
from portal.commission.roles import NOMINATORS, SESSION_READERS
from portal.errors import on_refusal
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int  # arg_int: fuzzing fix (S13)
from portal.i18n import unit_name
from portal.labels import REWARD_FORM_LABELS
from portal.paging import row_link
from portal.security import SIGNED_IN, allow, current_scope, get_in_scope, holds
from volunteers.activity_models import Contribution
from volunteers.models import Member

# ---- coordinators: candidates and nominations -------------------------------------------------


def _period() -> tuple[int, int]:
    """Return the year and quarter asked for, the current ones by default."""
    today = clock.today()
    year = request.values.get("year", type=arg_int) or today.year
    quarter = request.values.get("quarter", type=arg_int) or (today.month - 1) // 3 + 1
    if not 2000 <= year <= 2100 or quarter not in (1, 2, 3, 4):
        abort(400)
    return year, quarter


@bp.route("/candidates")
@allow(*NOMINATORS)
def candidates():
    year, quarter = _period()
    first, last = nominations.quarter_bounds(year, quarter)
    rows = nominations.candidates(db.session, current_scope(*NOMINATORS), first, last)
    # Each unit's name once, not once per row: a page lists up to 100 members of a few units.
    units = {
        u.id: unit_name(u)
        for u in db.session.scalars(
            select(places.AdminUnit).where(places.AdminUnit.id.in_({c.unit_id for c in rows}))
        )
    }
    return render_template(
        "commission/candidates.html",
        rows=rows,
        units=units,
        # Each row's link from one pattern with the period encoded once: url_for per row (and
        # its query encoding) cost a quarter of the page.
        nominate_href=row_link("commission.nominate", "member_id")
        + f"?year={year}&quarter={quarter}",
        year=year,
        quarter=quarter,
        first=first,
        last=last,
        years=range(clock.today().year, clock.today().year - 4, -1),
    )


def _eligible(member: Member, first: dt.date, last: dt.date) -> list[Contribution]:
    """The member's confirmed contributions of the period not yet behind an approved reward."""
    rewarded = select(NominationContribution.contribution_id).where(NominationContribution.approved)
    return list(
        db.session.scalars(
            select(Contribution)
            .where(
                Contribution.member_id == member.id,
                Contribution.status == "confirmed",
                Contribution.occurred_on.between(first, last),
                Contribution.id.not_in(rewarded),
            )
            .order_by(Contribution.occurred_on, Contribution.id)
        )
    )


def _amount_tiyn(form: NominationForm, year: int) -> int:
    """Turn the typed amount (MCI or tenge) into tiyn; non-money forms carry none."""
    text = (form.amount.data or "").strip()
    if form.reward_form.data not in MONEY_FORMS or not text:
        return 0
    typed = Decimal(parse_tenge(text)) / 100
    return nominations.amount_in_tiyn(db.session, amount=typed, unit=form.unit.data, year=year)


@bp.route("/candidates/<int:member_id>/nominate", methods=["GET", "POST"])
@allow(*NOMINATORS)
def nominate(member_id: int):
    member = get_in_scope(Member, member_id, *NOMINATORS)
    year, quarter = _period()
    first, last = nominations.quarter_bounds(year, quarter)
    today = clock.today()
    context = {"member": member, "year": year, "quarter": quarter, "first": first, "last": last}
    commission = policies.commission_for(db.session, member.unit_id)
    if commission is None:
        flash(_("The member's akimat has no reward commission yet."), "danger")
        return render_template("commission/nominate.html", form=None, **context), 409
    with on_refusal("commission/nominate.html", form=None, **context):
        rule = policies.policy_in_force(db.session, commission.unit_id, today)
        mci = policies.mci_tiyn(db.session, today.year)
    eligible = _eligible(member, first, last)
    form = NominationForm()
    form.contribution_ids.choices = [SelectChoice(c.id, str(c.id)) for c in eligible]
    form.reward_form.choices = [SelectChoice(f, REWARD_FORM_LABELS[f]) for f in rule.allowed_forms]
    page = {
        "form": form,
        "commission": commission,
        "rule": rule,
        "mci": mci,
        "mci_year": today.year,
        "eligible": {c.id: c for c in eligible},
        **context,
    }
    if form.validate_on_submit():
        with on_refusal("commission/nominate.html", **page):
            nominated = nominations.nominate(
                db.session,
                commission_id=commission.id,
                member_id=member.id,
                contribution_ids=form.contribution_ids.data or [],
                justification=form.justification.data,
                form=form.reward_form.data,
                amount_tiyn=_amount_tiyn(form, today.year),
                entered_in=form.unit.data,
                nominator_id=current_user.id,
                today=today,
            )
        db.session.commit()
        flash(_("The nomination has been submitted to the commission."), "success")
        return redirect(url_for("commission.nomination", nomination_id=nominated.id))
    return render_template("commission/nominate.html", **page), 400 if form.errors else 200


@bp.route("/nominations")
@allow(*NOMINATORS)
def my_nominations():
    rows = db.session.scalars(
        select(Nomination)
        .where(Nomination.nominator_id == current_user.id)
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
        .limit(200)
    ).all()
    return render_template("commission/nominations.html", rows=rows)


def _nomination_in_scope(nomination_id: int) -> Nomination:
    found = db.session.get(Nomination, nomination_id)
    if found is None:
        abort(404)
    if not (
        holds(found.recipient_unit_id, *NOMINATORS)
        or holds(found.commission.unit_id, *SESSION_READERS, "member")
    ):
        abort(404)
    return found


def _in_mci(amount_tiyn: int, year: int) -> Decimal | None:
    try:
        mci = policies.mci_tiyn(db.session, year)
    except DomainError:
        return None
    return (Decimal(amount_tiyn) / mci).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@bp.route("/nominations/<int:nomination_id>")
@allow(*NOMINATORS, *SESSION_READERS, "member")
def nomination(nomination_id: int):
    found = _nomination_in_scope(nomination_id)
    return render_template(
        "commission/nomination.html",
        nomination=found,
        nominator=db.session.get(accounts.User, found.nominator_id),
        supporting=nominations.supporting(db.session, found.id),
        in_mci=_in_mci(found.amount_tiyn, found.year) if found.amount_tiyn else None,
        may_submit=found.status == "draft" and holds(found.recipient_unit_id, *NOMINATORS),
        confirm=ConfirmForm(),
        trail=audit.events_for(db.session, "nomination", found.id),
    )


@bp.route("/nominations/<int:nomination_id>/submit", methods=["POST"])
@allow(*NOMINATORS)
def submit_nomination(nomination_id: int):
    found = _nomination_in_scope(nomination_id)
    if not holds(found.recipient_unit_id, *NOMINATORS) or not ConfirmForm().validate_on_submit():
        abort(403)
    with on_refusal(
        lambda _status: redirect(url_for("commission.nomination", nomination_id=nomination_id))
    ):
        nominations.submit_nomination(db.session, nomination_id=found.id, actor_id=current_user.id)
    db.session.commit()
    flash(_("The nomination has been submitted to the commission."), "success")
    return redirect(url_for("commission.nomination", nomination_id=nomination_id))


# ---- volunteers: my rewards -------------------------------------------------------------------


@bp.route("/my-rewards")
@allow(SIGNED_IN)
def my_rewards():
    rows = db.session.scalars(reward_queries.rewards_of(current_user.id)).all()
    items = {
        i.nomination_id: i
        for i in db.session.scalars(reward_queries.approved_items_of([n.id for n in rows]))
    }
    return render_template(
        "commission/my_rewards.html",
        rows=rows,
        items=items,
        states=payout_states(i.id for i in items.values()),
        mask_iban=payouts.mask_iban,
    )


# The sessions' and the payouts' screens add their routes to ``bp``.

# ---- sober-settlement initiatives put forward -------------------------------------------------


@bp.route("/initiatives/<int:initiative_id>/nominate", methods=["POST"])
@allow(*NOMINATORS)
def nominate_initiative(initiative_id: int):
    from incentives.sober_models import Initiative
    from portal.commission.forms import initiative_nomination_form
    from portal.sober.initiative_views import initiative_page

    initiative = get_in_scope(Initiative, initiative_id, *NOMINATORS)
    form = initiative_nomination_form(list(FORMS))
    if not form.validate_on_submit():
        return initiative_page(initiative, 400, nominate_form=form)
    with on_refusal(lambda status: initiative_page(initiative, status, nominate_form=form)):
        nominations.nominate_initiative(
            db.session,
            initiative_id=initiative.id,
            recipient=form.recipient.data,
            justification=form.justification.data,
            form=form.reward_form.data,
            amount_tiyn=_amount_tiyn(form, clock.today().year),
            entered_in=form.unit.data,
            nominator_id=current_user.id,
            today=clock.today(),
        )
    db.session.commit()
    flash(_("The initiative has been put forward to the reward commission."), "success")
    return redirect(url_for("sober.initiative", initiative_id=initiative.id))
