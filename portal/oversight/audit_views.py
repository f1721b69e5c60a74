"""Oversight's audit-log browser and the start of an audit-chain verification."""

from __future__ import annotations

import datetime as dt
import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select

from core import accounts, audit, clock, jobruns, places
from core import queries as core_queries
from core.accounts import User
from portal import jobs
from portal.extensions import db
from portal.forms import INT_MAX, ConfirmForm, arg_date, arg_int  # arg_int: fuzzing fix (S13)
from portal.labels import AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS
from portal.oversight.blueprint import bp
from portal.oversight.record_links import described
from portal.oversight.views import PAGE, READERS, scope
from portal.security import allow

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


# An e-mail that belongs to no account: its filter matches no event.
NOBODY = 0


def _actor(problems: list[str]) -> int | None:
    """Return the account id the log is filtered by, or None for no actor filter."""
    text = (request.args.get("actor") or "").strip()
    if not text:
        return None
    if "@" in text:
        # Unknown or not: the same page (events or none), never "no such account", which
        # would tell anyone who may read the log whether an address is registered.
        found = accounts.find_by_login(db.session, text)
        return found.id if found else NOBODY
    found = None
    # An id within an INTEGER's range, in ASCII digits: "²" passed str.isdigit but not int(),
    # and 2147483648 overflowed PostgreSQL's integer (500s found by fuzzing, S13).
    if text.isascii() and text.isdigit():
        found = db.session.get(User, int(text)) if len(text) < 11 and int(text) <= INT_MAX else None
    if found is None:
        problems.append(
            _(
                "No account has the id or e-mail “%(text)s”; that filter was ignored.",
                text=text[:80],
            )
        )
        return None
    return found.id


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
    events = select(audit.AuditEvent).options(audit.actor_name())
    if country in units.unit_ids:
        return events
    return events.where(audit.AuditEvent.actor_id.in_(core_queries.account_ids(units)))


def _filtered_events(filters: dict):
    query = _events_in_scope()
    if filters["actor"] is not None:
        query = query.where(audit.AuditEvent.actor_id == filters["actor"])
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
        .where(
            jobruns.JobRun.kind == "audit.verify",
            # A broken chain fails its run (issue 18) and must still be shown here.
            jobruns.JobRun.status.in_(("succeeded", "failed")),
            jobruns.JobRun.result.is_not(None),
        )
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
    # Every kind of record and step the portal records, by label (not a scan of the log).
    object_types = sorted(AUDIT_OBJECT_LABELS, key=lambda t: str(AUDIT_OBJECT_LABELS[t]))
    actions = sorted(AUDIT_ACTION_LABELS, key=lambda a: str(AUDIT_ACTION_LABELS[a]))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    events = rows[:PAGE]
    return render_template(
        "oversight/audit.html",
        events=events,
        records=described((e.object_type, e.object_id) for e in events),
        actions=actions,
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
