"""Deputies' oversight screens: the execution dashboard, drill-down pages and the audit log.

Everything here is read-only (the one POST starts the audit-chain verification job) and
limited to the jurisdictions the deputy (or administrator) holds; a record outside them is
answered with 404. Personal data is masked: IINs with ``mask_iin``, IBANs with ``mask_iban``.
The drill-down pages are in ``drilldown_views.py``, the audit log in ``audit_views.py``.
"""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from budget import queries as budget_queries
from budget import reports as budget_reports
from core import audit, clock
from core.scope import Scope
from incentives import payouts
from incentives import reports as reward_reports
from portal.extensions import db
from portal.forms import arg_int  # arg_int: fuzzing fix (S13)
from portal.i18n import translated
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
from portal.oversight.blueprint import bp
from portal.paging import row_link
from portal.security import allow, current_scope, require_unit

READERS = ("deputy", "admin")
PAGE = 50

_LABEL_TABLES = translated(
    PURPOSE_LABELS=PURPOSE_LABELS,
    DECISION_KIND_LABELS=DECISION_KIND_LABELS,
    LEDGER_KIND_LABELS=LEDGER_KIND_LABELS,
    REWARD_FORM_LABELS=REWARD_FORM_LABELS,
    OUTCOME_LABELS=OUTCOME_LABELS,
    PAYOUT_STATUS_LABELS=PAYOUT_STATUS_LABELS,
    SESSION_STATUS_LABELS=SESSION_STATUS_LABELS,
    NOMINATION_STATUS_LABELS=NOMINATION_STATUS_LABELS,
    VOTE_CHOICE_LABELS=VOTE_CHOICE_LABELS,
)


@bp.context_processor
def _labels():
    return {
        **_LABEL_TABLES,
        "mask_iban": payouts.mask_iban,
        "shares_of": shares_of,
    }


def scope() -> Scope:
    """Return the jurisdictions the current user oversees."""
    return current_scope(*READERS)


def in_scope(unit_id: int) -> None:
    """Answer 404 unless ``unit_id`` lies within the user's oversight."""
    require_unit(unit_id, *READERS, private=True)


def trail(*records: tuple[str, object]):
    """Return the audit events of several records, newest first."""
    events = [e for kind, oid in records for e in audit.events_for(db.session, kind, oid)]
    return sorted(events, key=lambda e: e.seq, reverse=True)


def _years() -> list[int]:
    return list(db.session.scalars(budget_queries.fiscal_years(scope())))


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
    # Figures summed by the database: the page's cost does not grow with the ledger and the
    # rewards (pandas frames of every row cost 20-37 times the floor, issue 16).
    lines, programs, districts, totals = budget_reports.execution_rows(
        db.session, scope=ids, year=year
    )
    months, quarters = budget_reports.disbursed_by_period(db.session, scope=ids, year=year)
    # The year before, drawn beside each month (issue 19).
    previous_months, _quarters = budget_reports.disbursed_by_period(
        db.session, scope=ids, year=year - 1
    )
    summary, forms, kinds = reward_reports.reward_figures(db.session, scope=ids, year=year)
    locale = str(get_locale())
    lines_of: dict[int, list[dict]] = {}
    for row in lines:
        lines_of.setdefault(row["program_id"], []).append(row)
    return render_template(
        "oversight/dashboard.html",
        year=year,
        years=sorted(set(years) | {year}, reverse=True),
        totals=totals,
        programs=programs,
        lines_of=lines_of,
        line_href=row_link("oversight.line", "line_id"),
        districts=districts,
        months=months,
        previous_months=previous_months,
        quarters=quarters,
        forms=forms,
        kinds=kinds,
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
    )


def shares(approved: int, committed: int, disbursed: int) -> dict[str, int]:
    """Return whole percents of the approved amount: paid, committed and used (both)."""
    if approved <= 0:
        return {"paid": 0, "committed": 0, "used": 0}
    paid = disbursed * 100 // approved
    used = (committed + disbursed) * 100 // approved
    return {"paid": paid, "committed": used - paid, "used": used}


def shares_of(row) -> dict[str, int]:
    """Return ``shares`` of an execution row (a line, program, district or the totals)."""
    return shares(int(row["approved_tiyn"]), int(row["committed_tiyn"]), int(row["disbursed_tiyn"]))
