"""The reward commission's screens.

Administrators keep the reward policy and the commission's members; coordinators nominate from
the quarter's candidates; the secretary plans sessions, builds the agenda, records attendance
(and the votes of a session held on paper), closes the session and finalises the minutes;
members vote; finance officers record payouts; volunteers see their rewards. Every rule lives
in ``incentives``: these views validate the form, call one domain function and commit.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from wtforms import SelectChoice

from core import accounts, audit, clock, places
from core.errors import DomainError
from core.money import parse_tenge
from incentives import nominations, payouts
from incentives import policy as policies
from incentives.models import (
    FORMS,
    MONEY_FORMS,
    AgendaItem,
    Commission,
    CommissionMember,
    Nomination,
    NominationContribution,
    Payout,
    RewardPolicy,
)
from portal.commission.forms import (
    CommissionForm,
    EndTermForm,
    MemberForm,
    NominationForm,
    RulesForm,
    policy_form_class,
)
from portal.errors import flash_form_errors, refuse
from portal.extensions import db
from portal.forms import ConfirmForm, arg_int, unit_choices  # arg_int: fuzzing fix (S13)
from portal.labels import (
    AMOUNT_UNIT_LABELS,
    COMMISSION_ROLE_LABELS,
    NOMINATION_STATUS_LABELS,
    OUTCOME_LABELS,
    PAYOUT_STATUS_LABELS,
    RECUSAL_LABELS,
    REWARD_FORM_LABELS,
    SESSION_STATUS_LABELS,
    VOTE_CHOICE_LABELS,
)
from portal.security import SIGNED_IN, allow, get_in_scope
from volunteers import contributions
from volunteers.activity_models import Contribution
from volunteers.models import Member

bp = Blueprint("commission", __name__, url_prefix="/commission")
AKIMAT_LEVELS = ("region", "city", "district")
NOMINATORS = ("coordinator",)
SESSION_READERS = ("secretary", "chair", "deputy")
PAYERS = ("finance",)
PAYOUT_READERS = ("finance", "deputy")


def outcome_text(raw: str | None) -> str:
    """Translate an outcome reason kept as JSON {"msg": msgid, "params": {...}}."""
    if not raw:
        return ""
    try:
        data = json.loads(raw)
        return _(data["msg"], **data.get("params", {}))
    except (ValueError, KeyError, TypeError):
        return raw


def recusal_text(reason: str | None) -> str:
    """Translate an automatic recusal's reason; a member's own reason is shown as typed."""
    return str(RECUSAL_LABELS[reason]) if reason in RECUSAL_LABELS else (reason or "")


# App-wide: the minutes render outside a request (demo loader) and the sober-settlement
# initiative page shows commission outcomes.
@bp.app_context_processor
def _labels():
    return {
        "REWARD_FORM_LABELS": REWARD_FORM_LABELS,
        "COMMISSION_ROLE_LABELS": COMMISSION_ROLE_LABELS,
        "NOMINATION_STATUS_LABELS": NOMINATION_STATUS_LABELS,
        "SESSION_STATUS_LABELS": SESSION_STATUS_LABELS,
        "VOTE_CHOICE_LABELS": VOTE_CHOICE_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "PAYOUT_STATUS_LABELS": PAYOUT_STATUS_LABELS,
        "AMOUNT_UNIT_LABELS": AMOUNT_UNIT_LABELS,
        "outcome_text": outcome_text,
        "recusal_text": recusal_text,
    }


def _today() -> dt.date:
    return clock.today()


def _users(ids) -> dict[int, accounts.User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        u.id: u for u in db.session.scalars(select(accounts.User).where(accounts.User.id.in_(ids)))
    }


def _in_scope(query, unit_column, *roles: str):
    return query.join(places.AdminUnit, unit_column == places.AdminUnit.id).where(
        places.units_within_clause(current_user.scope(*roles))
    )


def _holds(unit_id: int, *roles: str) -> bool:
    return places.within(db.session, unit_id, current_user.scope(*roles))


def _supports(nomination_ids) -> dict[int, int]:
    ids = list(nomination_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(NominationContribution.nomination_id, func.count())
            .where(NominationContribution.nomination_id.in_(ids))
            .group_by(NominationContribution.nomination_id)
        ).all()
    )


def _states(item_ids) -> dict[int, Payout]:
    """Return each item's live payout, or its latest one when none is live."""
    ids = list(item_ids)
    found: dict[int, Payout] = {}
    if not ids:
        return found
    for p in db.session.scalars(select(Payout).where(Payout.item_id.in_(ids)).order_by(Payout.id)):
        current = found.get(p.item_id)
        if current is None or current.status not in payouts.LIVE:
            found[p.item_id] = p
    return found


# ---- administration: policy and commission ----------------------------------------------------


def _policy_form():
    kinds = contributions.kinds(db.session)
    form = policy_form_class(kinds, str(get_locale()))()
    form.unit_id.choices = unit_choices(current_user.scope("admin"), AKIMAT_LEVELS)
    if request.method == "GET":
        form.forms.data = ["thanks", "certificate", "valuable_gift", "cash"]
    return form, kinds


@bp.route("/admin/policies", methods=["GET", "POST"])
@allow("admin")
def policies_page():
    form, kinds = _policy_form()
    status = 200
    if form.validate_on_submit():
        try:
            policies.set_policy(
                db.session,
                unit_id=form.unit_id.data,
                effective_from=form.effective_from.data,
                resolution=form.resolution.data,
                forms=form.forms.data or [],
                cash_cap_mci=form.cash_cap_mci.data,
                annual_cap_mci=form.annual_cap_mci.data,
                points={k.code: form[f"points_{k.code}"].data for k in kinds},
                quorum=(form.quorum_numerator.data, form.quorum_denominator.data),
                chair_breaks_tie=form.chair_breaks_tie.data,
                actor_id=current_user.id,
                annual_cap_basis=form.annual_cap_basis.data or "",
            )
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The reward policy has been recorded."), "success")
            return redirect(url_for("commission.policies_page"))
    elif form.errors:
        status = 400
    rows = db.session.execute(
        _in_scope(select(RewardPolicy, places.AdminUnit), RewardPolicy.unit_id, "admin")
        .order_by(places.AdminUnit.path, RewardPolicy.effective_from.desc())
        .limit(500)
    ).all()
    return render_template(
        "commission/policies.html",
        form=form,
        kinds=kinds,
        rows=[(p, u, json.loads(p.points)) for p, u in rows],
        kind_names={k.code: k.name(str(get_locale())) for k in kinds},
    ), status


def _commissions_page(form: CommissionForm, status: int = 200):
    rows = db.session.execute(
        _in_scope(select(Commission, places.AdminUnit), Commission.unit_id, "admin").order_by(
            places.AdminUnit.path
        )
    ).all()
    return render_template("commission/commissions.html", rows=rows, form=form), status


@bp.route("/admin/commissions", methods=["GET", "POST"])
@allow("admin")
def commissions():
    form = CommissionForm()
    form.unit_id.choices = unit_choices(current_user.scope("admin"), AKIMAT_LEVELS)
    if form.validate_on_submit():
        try:
            created = policies.create_commission(
                db.session, unit_id=form.unit_id.data, name=form.name.data, actor_id=current_user.id
            )
        except DomainError as exc:
            return _commissions_page(form, refuse(exc))
        db.session.commit()
        flash(_("The commission has been created. Now appoint its members."), "success")
        return redirect(url_for("commission.commission", commission_id=created.id))
    return _commissions_page(form, 400 if form.errors else 200)


def _person_choices() -> list[SelectChoice]:
    users = db.session.scalars(
        _in_scope(select(accounts.User), accounts.User.unit_id, "admin")
        .where(accounts.User.is_active)
        .order_by(accounts.User.full_name, accounts.User.id)
        .limit(2000)
    ).all()
    return [SelectChoice(u.id, f"{u.full_name} ({u.login})") for u in users]


def _commission_page(
    commission: Commission,
    form: MemberForm | None = None,
    status: int = 200,
    rules_form: RulesForm | None = None,
):
    if form is None:
        form = MemberForm(term_from=_today())
    form.user_id.choices = _person_choices()
    if rules_form is None:
        rules_form = RulesForm(
            secretary_votes=commission.secretary_votes, chair_stand_in=commission.chair_stand_in
        )
    return render_template(
        "commission/commission.html",
        commission=commission,
        unit=db.session.get(places.AdminUnit, commission.unit_id),
        members=commission.members,
        form=form,
        rules_form=rules_form,
        end_form=EndTermForm(term_to=_today()),
        today=_today(),
        trail=audit.events_for(db.session, "commission", commission.id),
    ), status


@bp.route("/admin/commissions/<int:commission_id>", methods=["GET", "POST"])
@allow("admin")
def commission(commission_id: int):
    found = get_in_scope(Commission, commission_id, "admin")
    if request.method == "GET":
        return _commission_page(found)
    form = MemberForm()
    form.user_id.choices = _person_choices()
    if not form.validate_on_submit():
        return _commission_page(found, form, 400)
    try:
        policies.add_member(
            db.session,
            commission_id=found.id,
            user_id=form.user_id.data,
            role=form.role.data,
            position=form.position.data,
            term_from=form.term_from.data,
            term_to=form.term_to.data,
            actor_id=current_user.id,
        )
    except DomainError as exc:
        status = refuse(exc)
        return _commission_page(db.session.get(Commission, commission_id), form, status)
    db.session.commit()
    flash(_("The member has been appointed."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


@bp.route("/admin/commissions/<int:commission_id>/rules", methods=["POST"])
@allow("admin")
def commission_rules(commission_id: int):
    found = get_in_scope(Commission, commission_id, "admin")
    form = RulesForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _commission_page(found, status=400, rules_form=form)
    try:
        policies.set_rules(
            db.session,
            commission_id=found.id,
            secretary_votes=form.secretary_votes.data,
            chair_stand_in=form.chair_stand_in.data,
            actor_id=current_user.id,
        )
    except DomainError as exc:
        status = refuse(exc)
        return _commission_page(
            db.session.get(Commission, found.id), status=status, rules_form=form
        )
    db.session.commit()
    flash(_("The commission's rules of procedure have been recorded."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


@bp.route("/admin/members/<int:member_id>/end", methods=["POST"])
@allow("admin")
def end_term(member_id: int):
    member = db.session.get(CommissionMember, member_id)
    if member is None:
        abort(404)
    found = get_in_scope(Commission, member.commission_id, "admin")
    form = EndTermForm()
    if not form.validate_on_submit():
        flash_form_errors(form)  # the page shows a fresh end-of-term form: say why (S13)
        return _commission_page(found, status=400)
    try:
        policies.end_term(
            db.session, member_id=member.id, term_to=form.term_to.data, actor_id=current_user.id
        )
    except DomainError as exc:
        status = refuse(exc)
        return _commission_page(db.session.get(Commission, found.id), status=status)
    db.session.commit()
    flash(_("The member's term has been ended."), "success")
    return redirect(url_for("commission.commission", commission_id=found.id))


# ---- coordinators: candidates and nominations -------------------------------------------------


def _period() -> tuple[int, int]:
    """Return the year and quarter asked for, the current ones by default."""
    today = _today()
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
    rows = nominations.candidates(db.session, current_user.scope(*NOMINATORS), first, last)
    units = {
        u.id: u
        for u in db.session.scalars(
            select(places.AdminUnit).where(places.AdminUnit.id.in_({c.unit_id for c in rows}))
        )
    }
    return render_template(
        "commission/candidates.html",
        rows=rows,
        units=units,
        year=year,
        quarter=quarter,
        first=first,
        last=last,
        years=range(_today().year, _today().year - 4, -1),
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
    today = _today()
    context = {"member": member, "year": year, "quarter": quarter, "first": first, "last": last}
    commission = policies.commission_for(db.session, member.unit_id)
    if commission is None:
        flash(_("The member's akimat has no reward commission yet."), "danger")
        return render_template("commission/nominate.html", form=None, **context), 409
    try:
        rule = policies.policy_in_force(db.session, commission.unit_id, today)
        mci = policies.mci_tiyn(db.session, today.year)
    except DomainError as exc:
        status = refuse(exc)
        return render_template("commission/nominate.html", form=None, **context), status
    eligible = _eligible(member, first, last)
    form = NominationForm()
    form.contribution_ids.choices = [SelectChoice(c.id, str(c.id)) for c in eligible]
    form.reward_form.choices = [SelectChoice(f, REWARD_FORM_LABELS[f]) for f in rule.allowed_forms]
    status = 200
    if form.validate_on_submit():
        try:
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
        except DomainError as exc:
            status = refuse(exc)
        else:
            db.session.commit()
            flash(_("The nomination has been submitted to the commission."), "success")
            return redirect(url_for("commission.nomination", nomination_id=nominated.id))
    elif form.errors:
        status = 400
    return render_template(
        "commission/nominate.html",
        form=form,
        commission=commission,
        rule=rule,
        mci=mci,
        mci_year=today.year,
        eligible={c.id: c for c in eligible},
        **context,
    ), status


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
        _holds(found.recipient_unit_id, *NOMINATORS)
        or _holds(found.commission.unit_id, *SESSION_READERS, "member")
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
        may_submit=found.status == "draft" and _holds(found.recipient_unit_id, *NOMINATORS),
        confirm=ConfirmForm(),
        trail=audit.events_for(db.session, "nomination", found.id),
    )


@bp.route("/nominations/<int:nomination_id>/submit", methods=["POST"])
@allow(*NOMINATORS)
def submit_nomination(nomination_id: int):
    found = _nomination_in_scope(nomination_id)
    if not _holds(found.recipient_unit_id, *NOMINATORS) or not ConfirmForm().validate_on_submit():
        abort(403)
    try:
        nominations.submit_nomination(db.session, nomination_id=found.id, actor_id=current_user.id)
    except DomainError as exc:
        refuse(exc)
    else:
        db.session.commit()
        flash(_("The nomination has been submitted to the commission."), "success")
    return redirect(url_for("commission.nomination", nomination_id=nomination_id))


# ---- volunteers: my rewards -------------------------------------------------------------------


@bp.route("/my-rewards")
@allow(SIGNED_IN)
def my_rewards():
    mine = select(Member.id).where(Member.user_id == current_user.id)
    rows = db.session.scalars(
        select(Nomination)
        .where(
            or_(Nomination.member_id.in_(mine), Nomination.recipient_user_id == current_user.id),
            Nomination.status != "draft",
        )
        .order_by(Nomination.created_at.desc(), Nomination.id.desc())
    ).all()
    items = {
        i.nomination_id: i
        for i in db.session.scalars(
            select(AgendaItem).where(
                AgendaItem.nomination_id.in_([n.id for n in rows]),
                AgendaItem.outcome == "approved",
            )
        )
    }
    return render_template(
        "commission/my_rewards.html",
        rows=rows,
        items=items,
        states=_states(i.id for i in items.values()),
        mask_iban=payouts.mask_iban,
    )


# The sessions' and the payouts' screens add their routes to ``bp``.
from portal.commission import payout_views, session_views  # noqa: E402, F401

# ---- sober-settlement initiatives put forward -------------------------------------------------


@bp.route("/initiatives/<int:initiative_id>/nominate", methods=["POST"])
@allow(*NOMINATORS)
def nominate_initiative(initiative_id: int):
    from incentives.sober_models import Initiative
    from portal.commission.forms import initiative_nomination_form
    from portal.sober.views import initiative_page

    initiative = get_in_scope(Initiative, initiative_id, *NOMINATORS)
    form = initiative_nomination_form(list(FORMS))
    if not form.validate_on_submit():
        return initiative_page(initiative, 400, nominate_form=form)
    try:
        nominations.nominate_initiative(
            db.session,
            initiative_id=initiative.id,
            recipient=form.recipient.data,
            justification=form.justification.data,
            form=form.reward_form.data,
            amount_tiyn=_amount_tiyn(form, _today().year),
            entered_in=form.unit.data,
            nominator_id=current_user.id,
            today=_today(),
        )
    except DomainError as exc:
        return initiative_page(
            db.session.get(Initiative, initiative_id), refuse(exc), nominate_form=form
        )
    db.session.commit()
    flash(_("The initiative has been put forward to the reward commission."), "success")
    return redirect(url_for("sober.initiative", initiative_id=initiative.id))
