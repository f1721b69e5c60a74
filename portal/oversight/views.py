"""Deputies' oversight screens: the execution dashboard, drill-down pages and the audit log.

Everything here is read-only (the one POST starts the audit-chain verification job) and
limited to the jurisdictions the deputy (or administrator) holds; a record outside them is
answered with 404. Personal data is masked: IINs with ``mask_iin``, IBANs with ``mask_iban``.
Other modules of this package add routes to ``bp`` and are imported at the bottom.
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from budget import reports as budget_reports
from budget.models import (
    Amendment,
    BudgetLine,
    BudgetProgram,
    FiscalYearClosure,
    LedgerEntry,
    MaslikhatDecision,
)
from core import accounts, audit, clock, jobruns, places
from core.accounts import User
from incentives import payouts
from incentives import reports as reward_reports
from incentives.models import (
    AgendaItem,
    Attendance,
    Commission,
    CommissionSession,
    Nomination,
    NominationContribution,
    Payout,
)
from portal import jobs
from portal.extensions import db
from portal.forms import INT_MAX, ConfirmForm, arg_date, arg_int  # arg_int: fuzzing fix (S13)
from portal.labels import (
    DECISION_KIND_LABELS,
    LEDGER_KIND_LABELS,
    NOMINATION_STATUS_LABELS,
    OUTCOME_LABELS,
    PAYOUT_STATUS_LABELS,
    PURPOSE_LABELS,
    REWARD_FORM_LABELS,
    SESSION_STATUS_LABELS,
    VOTE_CHOICE_LABELS,
)
from portal.security import allow, require_unit
from volunteers import persons
from volunteers.activity_models import Contribution
from volunteers.models import Member

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
READERS = ("deputy", "admin")
PAGE = 50
# Where a record named in the audit log is shown in oversight: object type -> (endpoint, arg).
RECORD_PAGES = {
    "budget_line": ("oversight.line", "line_id"),
    "maslikhat_decision": ("oversight.decision", "decision_id"),
    "commission_session": ("oversight.session", "session_id"),
    "agenda_item": ("oversight.reward", "item_id"),
    "payout": ("oversight.payout", "payout_id"),
    "member": ("oversight.member", "member_id"),
    "contribution": ("oversight.contribution", "contribution_id"),
}


@bp.context_processor
def _labels():
    return {
        "PURPOSE_LABELS": PURPOSE_LABELS,
        "DECISION_KIND_LABELS": DECISION_KIND_LABELS,
        "LEDGER_KIND_LABELS": LEDGER_KIND_LABELS,
        "REWARD_FORM_LABELS": REWARD_FORM_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "PAYOUT_STATUS_LABELS": PAYOUT_STATUS_LABELS,
        "SESSION_STATUS_LABELS": SESSION_STATUS_LABELS,
        "NOMINATION_STATUS_LABELS": NOMINATION_STATUS_LABELS,
        "VOTE_CHOICE_LABELS": VOTE_CHOICE_LABELS,
        "mask_iban": payouts.mask_iban,
        "record_url": record_url,
        "shares_of": shares_of,
    }


def scope() -> list[int]:
    """Return the jurisdictions the current user oversees."""
    return current_user.scope(*READERS)


def in_scope(unit_id: int) -> None:
    """Answer 404 unless ``unit_id`` lies within the user's oversight."""
    require_unit(unit_id, *READERS, private=True)


def record_url(object_type: str, object_id: str | None) -> str | None:
    """Return the oversight page of a record named in the audit log, if there is one."""
    page = RECORD_PAGES.get(object_type)
    if page is None or not object_id or not (object_id.isascii() and object_id.isdigit()):
        return None
    endpoint, arg = page
    return url_for(endpoint, **{arg: int(object_id)})


def _users(ids) -> dict[int, User]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _trail(*records: tuple[str, object]):
    """Return the audit events of several records, newest first."""
    events = [e for kind, oid in records for e in audit.events_for(db.session, kind, oid)]
    return sorted(events, key=lambda e: e.seq, reverse=True)


def _years() -> list[int]:
    return list(
        db.session.scalars(
            select(BudgetProgram.fiscal_year)
            .join(places.AdminUnit, BudgetProgram.unit_id == places.AdminUnit.id)
            .where(places.units_within_clause(scope()))
            .distinct()
            .order_by(BudgetProgram.fiscal_year.desc())
        )
    )


def _records(df) -> list[dict]:
    return df.to_dict("records")


# ---- dashboard --------------------------------------------------------------------------------


@bp.route("/")
@allow(*READERS)
def dashboard():
    years = _years()
    today_year = clock.today().year
    year = request.args.get("year", type=arg_int)
    if year is None or not 2000 <= year <= 2100:
        if request.args.get("year"):
            flash(_("There is no such year; the latest one is shown."), "warning")
        year = years[0] if years else today_year
    ids = scope()
    lines = budget_reports.execution_by_line(db.session, scope_ids=ids, year=year)
    # The program and district figures are sums of the line frame: one query, not three.
    programs = budget_reports.execution_by_program(
        db.session, scope_ids=ids, year=year, lines=lines
    )
    districts = budget_reports.execution_by_district(
        db.session, scope_ids=ids, year=year, lines=lines
    )
    months = budget_reports.disbursed_by_month(db.session, scope_ids=ids, year=year)
    quarters = budget_reports.disbursed_by_quarter(db.session, scope_ids=ids, year=year)
    # One frame of the approved rewards for the three reward figures, not one query each.
    items = reward_reports.rewards(db.session, scope_ids=ids, year=year)
    forms = reward_reports.rewards_by_form(db.session, scope_ids=ids, year=year, items=items)
    kinds = reward_reports.rewards_by_contribution_kind(
        db.session, scope_ids=ids, year=year, items=items
    )
    summary = reward_reports.reward_summary(db.session, scope_ids=ids, year=year, items=items)
    locale = str(get_locale())
    lines_of: dict[int, list[dict]] = {}
    for row in _records(lines):
        lines_of.setdefault(row["program_id"], []).append(row)
    return render_template(
        "oversight/dashboard.html",
        year=year,
        years=sorted(set(years) | {year}, reverse=True),
        totals=budget_reports.totals(lines),
        programs=_records(programs),
        lines_of=lines_of,
        districts=_records(districts),
        months=_records(months),
        quarters=_records(quarters),
        forms=_records(forms),
        kinds=_records(kinds),
        summary=summary,
        kind_name=lambda row: (
            row["name_ru"]
            if locale == "ru"
            else row["name_en"]
            if locale == "en"
            else row["name_kk"]
        ),
        named=lambda row, prefix: (
            row[f"{prefix}_name_ru"] if locale == "ru" else row[f"{prefix}_name_kk"]
        ),
        month_name=lambda m: _month_label(m),
    )


def _month_label(month: int) -> str:
    from flask_babel import format_date

    return format_date(dt.date(2000, month, 1), "LLL")


def shares(approved: int, committed: int, disbursed: int) -> dict[str, int]:
    """Return whole percents of the approved amount: paid, committed and used (both)."""
    if approved <= 0:
        return {"paid": 0, "committed": 0, "used": 0}
    paid = disbursed * 100 // approved
    used = (committed + disbursed) * 100 // approved
    return {"paid": paid, "committed": used - paid, "used": used}


def shares_of(row) -> dict[str, int]:
    """Return ``shares`` of a row of an execution DataFrame."""
    return shares(int(row["approved_tiyn"]), int(row["committed_tiyn"]), int(row["disbursed_tiyn"]))


# ---- drill-down: line, decision, session, reward, payout, member, contribution ----------------


@bp.route("/lines/<int:line_id>")
@allow(*READERS)
def line(line_id: int):
    line = db.session.get(BudgetLine, line_id)
    if line is None:
        abort(404)
    program = db.session.get(BudgetProgram, line.program_id)
    in_scope(program.unit_id)
    decisions = db.session.execute(
        select(Amendment, MaslikhatDecision)
        .join(MaslikhatDecision, Amendment.decision_id == MaslikhatDecision.id)
        .where(Amendment.line_id == line.id)
        .order_by(MaslikhatDecision.decided_on, MaslikhatDecision.id)
    ).all()
    items = db.session.execute(
        select(AgendaItem, CommissionSession)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .where(AgendaItem.line_id == line.id, AgendaItem.outcome == "approved")
        .order_by(CommissionSession.held_on, AgendaItem.position)
    ).all()
    return render_template(
        "oversight/line.html",
        line=line,
        program=program,
        unit=db.session.get(places.AdminUnit, program.unit_id),
        shares=shares(line.approved_tiyn, line.committed_tiyn, line.disbursed_tiyn),
        decisions=decisions,
        items=items,
        states=_payout_states(item.id for item, _s in items),
        year_closed=db.session.get(FiscalYearClosure, (program.unit_id, program.fiscal_year))
        is not None,
        trail=_trail(("budget_line", line.id)),
    )


def _payout_states(item_ids) -> dict[int, Payout]:
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


@bp.route("/decisions/<int:decision_id>")
@allow(*READERS)
def decision(decision_id: int):
    decision = db.session.get(MaslikhatDecision, decision_id)
    if decision is None:
        abort(404)
    in_scope(decision.unit_id)
    changes = db.session.execute(
        select(Amendment, BudgetLine, BudgetProgram)
        .join(BudgetLine, Amendment.line_id == BudgetLine.id)
        .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
        .where(Amendment.decision_id == decision.id)
        .order_by(Amendment.id)
    ).all()
    return render_template(
        "oversight/decision.html",
        decision=decision,
        unit=db.session.get(places.AdminUnit, decision.unit_id),
        changes=changes,
        people=_users([decision.entered_by_id, decision.verified_by_id]),
        trail=_trail(("maslikhat_decision", decision.id)),
    )


@bp.route("/sessions/<int:session_id>")
@allow(*READERS)
def session(session_id: int):
    sitting = db.session.get(CommissionSession, session_id)
    if sitting is None:
        abort(404)
    in_scope(sitting.commission.unit_id)
    attendance = db.session.scalars(
        select(Attendance).where(Attendance.session_id == sitting.id).order_by(Attendance.id)
    ).all()
    return render_template(
        "oversight/session.html",
        sitting=sitting,
        commission=sitting.commission,
        attendance=attendance,
        states=_payout_states(i.id for i in sitting.items),
        trail=_trail(("commission_session", sitting.id)),
    )


def _item_in_scope(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        abort(404)
    in_scope(item.session.commission.unit_id)
    return item


def _backing(nomination_ids) -> dict[int, list[Contribution]]:
    """Return the contributions linked to each nomination."""
    ids = list(nomination_ids)
    found: dict[int, list[Contribution]] = {}
    if not ids:
        return found
    rows = db.session.execute(
        select(NominationContribution.nomination_id, Contribution)
        .join(Contribution, NominationContribution.contribution_id == Contribution.id)
        .where(NominationContribution.nomination_id.in_(ids))
        .order_by(Contribution.occurred_on, Contribution.id)
    ).all()
    for nomination_id, contribution in rows:
        found.setdefault(nomination_id, []).append(contribution)
    return found


@bp.route("/rewards/<int:item_id>")
@allow(*READERS)
def reward(item_id: int):
    item = _item_in_scope(item_id)
    nomination = item.nomination
    history = db.session.scalars(
        select(Payout).where(Payout.item_id == item.id).order_by(Payout.id)
    ).all()
    backing = _backing([nomination.id]).get(nomination.id, [])
    return render_template(
        "oversight/reward.html",
        item=item,
        nomination=nomination,
        sitting=item.session,
        line=db.session.get(BudgetLine, item.line_id) if item.line_id else None,
        history=history,
        backing=backing,
        people=_users(
            [nomination.nominator_id, *(c.decided_by_id for c in backing)]
            + [p.recorded_by_id for p in history]
        ),
        trail=_trail(("agenda_item", item.id), ("nomination", nomination.id)),
    )


@bp.route("/payouts/<int:payout_id>")
@allow(*READERS)
def payout(payout_id: int):
    record = db.session.get(Payout, payout_id)
    if record is None:
        abort(404)
    item = _item_in_scope(record.item_id)
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.reference_type == "payout", LedgerEntry.reference_id == str(record.id))
        .order_by(LedgerEntry.id)
    ).all()
    return render_template(
        "oversight/payout.html",
        payout=record,
        item=item,
        nomination=item.nomination,
        sitting=item.session,
        entries=entries,
        people=_users([record.recorded_by_id]),
        trail=_trail(("payout", record.id)),
    )


def _payments_of(item_ids) -> dict[int, list[Payout]]:
    """Return every payout of each item, oldest first (voided and failed ones too)."""
    ids = list(item_ids)
    found: dict[int, list[Payout]] = {}
    if not ids:
        return found
    for p in db.session.scalars(select(Payout).where(Payout.item_id.in_(ids)).order_by(Payout.id)):
        found.setdefault(p.item_id, []).append(p)
    return found


@bp.route("/members/<int:member_id>")
@allow(*READERS)
def member(member_id: int):
    """The person behind a register entry (by IIN): every reward and payment they received."""
    person = db.session.get(Member, member_id)
    if person is None:
        abort(404)
    in_scope(person.unit_id)
    # A person may be in the register more than once (a public assistant and a patrol member,
    # or again after leaving), from the web, a walk-in application or an import; an activist
    # rewarded for a sober-settlement initiative is named by an account linked to the IIN.
    entries = db.session.scalars(
        select(Member).where(Member.iin == person.iin).order_by(Member.issued_on, Member.id)
    ).all()
    entry = aliased(Member)
    recipient = or_(
        entry.iin == person.iin,
        and_(
            Nomination.member_id.is_(None),
            persons.iin_is_user(person.iin, Nomination.recipient_user_id),
        ),
    )
    rewarded = db.session.execute(
        select(AgendaItem, CommissionSession, Commission)
        .join(CommissionSession, AgendaItem.session_id == CommissionSession.id)
        .join(Commission, CommissionSession.commission_id == Commission.id)
        .join(Nomination, AgendaItem.nomination_id == Nomination.id)
        .outerjoin(entry, entry.id == Nomination.member_id)
        .join(places.AdminUnit, Commission.unit_id == places.AdminUnit.id)
        .where(recipient, AgendaItem.outcome == "approved", places.units_within_clause(scope()))
        .order_by(CommissionSession.held_on.desc(), AgendaItem.id.desc())
    ).all()
    backing = _backing(item.nomination_id for item, _s, _c in rewarded)
    contributions = [c for item, _s, _c in rewarded for c in backing.get(item.nomination_id, [])]
    payments = _payments_of(item.id for item, _s, _c in rewarded)
    paid = [p for found in payments.values() for p in found if p.status == "paid"]
    return render_template(
        "oversight/member.html",
        person=person,
        entries=[m for m in entries if places.within(db.session, m.unit_id, scope())],
        rewarded=rewarded,
        backing=backing,
        payments=payments,
        paid_count=len(paid),
        paid_total=sum(p.amount_tiyn for p in paid),
        people=_users(c.decided_by_id for c in contributions),
        trail=_trail(*(("member", m.id) for m in entries)),
    )


@bp.route("/contributions/<int:contribution_id>")
@allow(*READERS)
def contribution(contribution_id: int):
    record = db.session.get(Contribution, contribution_id)
    if record is None:
        abort(404)
    in_scope(record.unit_id)
    nominations = db.session.scalars(
        select(Nomination)
        .join(NominationContribution, NominationContribution.nomination_id == Nomination.id)
        .where(NominationContribution.contribution_id == record.id)
        .order_by(Nomination.id)
    ).all()
    items = {
        item.nomination_id: item
        for item in db.session.scalars(
            select(AgendaItem).where(
                AgendaItem.nomination_id.in_([n.id for n in nominations] or [0]),
                AgendaItem.outcome == "approved",
            )
        )
    }
    return render_template(
        "oversight/contribution.html",
        record=record,
        person=db.session.get(Member, record.member_id),
        nominations=nominations,
        items=items,
        people=_users([record.logged_by_id, record.decided_by_id]),
        trail=_trail(("contribution", record.id)),
    )


# ---- audit log --------------------------------------------------------------------------------


def _day(name: str, problems: list[str]) -> dt.date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return arg_date(text)  # not 0001-01-01 nor 9999-12-31: 500s found by fuzzing (S13)
    except ValueError:
        problems.append(_("“%(text)s” is not a date; that filter was ignored.", text=text[:40]))
        return None


def _actor(problems: list[str]) -> User | None:
    text = (request.args.get("actor") or "").strip()
    if not text:
        return None
    found = None
    # An id within an INTEGER's range, in ASCII digits: "²" passed str.isdigit but not int(),
    # and 2147483648 overflowed PostgreSQL's integer (500s found by fuzzing, S13).
    if text.isascii() and text.isdigit():
        found = db.session.get(User, int(text)) if len(text) < 11 and int(text) <= INT_MAX else None
    elif "@" in text:
        found = accounts.find_by_login(db.session, text)
    if found is None:
        problems.append(
            _(
                "No account has the id or e-mail “%(text)s”; that filter was ignored.",
                text=text[:80],
            )
        )
    return found


def _audit_filters() -> tuple[dict, list[str]]:
    """Read the audit-log filters; a bad one is dropped and explained."""
    problems: list[str] = []
    args = request.args
    filters = {
        "actor": _actor(problems),
        "action": (args.get("action") or "").strip()[:80],
        "object_type": (args.get("object_type") or "").strip()[:40],
        "object_id": (args.get("object_id") or "").strip()[:40],
        "since": _day("from", problems),
        "until": _day("to", problems),
    }
    if filters["since"] and filters["until"] and filters["since"] > filters["until"]:
        problems.append(_("The start date is after the end date; the dates were ignored."))
        filters["since"] = filters["until"] = None
    return filters, problems


def _events_in_scope():
    """Events by officials and users of the reader's jurisdictions; everything country-wide.

    Events carry no jurisdiction of their own: the actor's is the honest proxy, so a district's
    deputy does not read another district's activity. The chain's head and its verification
    stay whole: they reveal nothing but the integrity of the whole log.
    """
    units = scope()
    country = db.session.scalar(
        select(places.AdminUnit.id).where(places.AdminUnit.kato == places.COUNTRY_KATO)
    )
    if country in units:
        return select(audit.AuditEvent)
    actors = (
        select(User.id)
        .join(places.AdminUnit, User.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause(units))
    )
    return select(audit.AuditEvent).where(audit.AuditEvent.actor_id.in_(actors))


def _filtered_events(filters: dict):
    query = _events_in_scope()
    if filters["actor"] is not None:
        query = query.where(audit.AuditEvent.actor_id == filters["actor"].id)
    if filters["action"]:
        query = query.where(
            or_(
                audit.AuditEvent.action == filters["action"],
                audit.AuditEvent.action.startswith(filters["action"] + ".", autoescape=True),
            )
        )
    if filters["object_type"]:
        query = query.where(audit.AuditEvent.object_type == filters["object_type"])
    if filters["object_id"]:
        query = query.where(audit.AuditEvent.object_id == filters["object_id"])
    if filters["since"]:
        query = query.where(audit.AuditEvent.at >= clock.local_day_bounds(filters["since"])[0])
    if filters["until"]:
        query = query.where(audit.AuditEvent.at < clock.local_day_bounds(filters["until"])[1])
    return query


def _chain_status() -> tuple[dict | None, jobruns.JobRun | None, audit.AuditEvent | None]:
    last = db.session.scalar(
        select(jobruns.JobRun)
        .where(jobruns.JobRun.kind == "audit.verify", jobruns.JobRun.status == "succeeded")
        .order_by(jobruns.JobRun.id.desc())
        .limit(1)
    )
    report = json.loads(last.result) if last and last.result else None
    head = db.session.scalar(
        select(audit.AuditEvent).order_by(audit.AuditEvent.seq.desc()).limit(1)
    )
    return report, last, head


@bp.route("/audit")
@allow(*READERS)
def audit_log():
    filters, problems = _audit_filters()
    for problem in problems:
        flash(problem, "warning")
    page = min(max(request.args.get("page", 1, type=arg_int), 1), 100_000)
    rows = db.session.scalars(
        _filtered_events(filters)
        .order_by(audit.AuditEvent.seq.desc())
        .offset((page - 1) * PAGE)
        .limit(PAGE + 1)
    ).all()
    report, last, head = _chain_status()
    object_types = db.session.scalars(
        select(audit.AuditEvent.object_type).distinct().order_by(audit.AuditEvent.object_type)
    ).all()
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "oversight/audit.html",
        events=rows[:PAGE],
        has_next=len(rows) > PAGE,
        page=page,
        args=args,
        filters=filters,
        object_types=object_types,
        report=report,
        last=last,
        head=head,
        confirm=ConfirmForm(),
    ), 400 if problems else 200


@bp.route("/audit/verify", methods=["POST"])
@allow(*READERS)
def verify_audit():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run = jobs.submit("audit.verify", requested_by_id=current_user.id, unit_id=None)
    db.session.commit()
    return redirect(url_for("jobruns.show", run_id=run.id))


from portal.oversight import (  # noqa: E402  (the modules add routes to bp)
    export_views,  # noqa: F401  (export routes on bp)
    flag_views,  # noqa: F401  (red-flag routes on bp)
    inquiry_views,  # noqa: F401  (deputies' inquiries on bp)
    pii_views,  # noqa: F401  (reveal of a masked IIN or IBAN)
    report_views,  # noqa: F401  (reports to the session on bp)
)
